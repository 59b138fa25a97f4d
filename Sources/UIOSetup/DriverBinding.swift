import Foundation
import UIO
import VFIO

/// Moves a PCI device between its kernel driver and a UIO driver through sysfs, the way
/// `uioctl bind` / `unbind` and the udev helper do:
///
/// - bind: remember the current driver in `/run/swift-uio/ADDR.driver`, write the UIO driver
///   to `driver_override`, unbind the current driver, write the address to `drivers_probe`;
/// - unbind: clear `driver_override`, unbind, give `config` and `resourceN` back to root, and
///   bind the remembered driver (or let `drivers_probe` find the kernel's match).
///
/// All paths go through `Sysfs`, so tests run it against a fake tree.
public struct DriverBinding {
    public let sysfs: Sysfs
    public var usage: InterfaceUsage
    /// Loads a kernel module; returns nil on success, else what went wrong.
    public var loadModule: (String) -> String?

    public static let memoryDirectory = "/run/swift-uio"

    public init(sysfs: Sysfs, usage: InterfaceUsage? = nil, loadModule: ((String) -> String?)? = nil) {
        self.sysfs = sysfs
        self.usage = usage ?? InterfaceUsage(sysfs: sysfs)
        let live = sysfs.root.isEmpty
        self.loadModule = loadModule ?? { module in
            // Never load a real module on behalf of a fake tree.
            guard live else { return "not loading modules under --sysfs-root" }
            guard let out = try? Shell.run("modprobe", [module]) else { return "modprobe could not be run" }
            return out.status == 0 ? nil : "modprobe \(module) failed: \(out.stderr.isEmpty ? "exit \(out.status)" : out.stderr)"
        }
    }

    /// The VFIO route's driver: `uioctl bind --vfio`.
    public static let vfioDriver = "vfio-pci"

    /// VFIO needs an IOMMU group, and hands a group out only when every member is bound to
    /// vfio-pci or to nothing: refuse before touching anything, naming the other members.
    func checkVFIOGroup(of address: PCIAddress) throws {
        let group = try VFIOGroupInfo(address: address, sysfs: sysfs)
        let others = group.blockers(sysfs: sysfs).filter { !$0.hasPrefix("\(address) ") }
        if !others.isEmpty { throw VFIOError.groupNotViable(group: group.number, blockers: others) }
    }

    public static func memoryFile(_ address: PCIAddress) -> String { "\(memoryDirectory)/\(address).driver" }

    /// What `bind` did: the kernel driver the device was bound to before, if any.
    public struct BindResult: Equatable {
        public let previousDriver: String?
    }

    /// Routes `address` to `driver`. Checks, in order: the device exists, is not bound to
    /// `driver` already, sysfs is writable, none of its interfaces is in use (unless `force`),
    /// and the driver is loaded (or loads).
    @discardableResult
    public func bind(_ address: PCIAddress, driver: String = UdevConfig.defaultDriver, force: Bool = false) throws -> BindResult {
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        if info.driver == driver { throw BindingError.alreadyBound(address, driver: driver) }
        let override = try requireWritableOverride(info, doing: "binding a device")
        if !force, let busy = usage.firstInUse(address) {
            throw BindingError.inUse(address, interface: busy.interface, reasons: busy.reasons)
        }
        if driver == Self.vfioDriver { try checkVFIOGroup(of: address) }
        let driverDirectory = "/sys/bus/pci/drivers/\(driver)"
        if !sysfs.exists(driverDirectory) {
            if let problem = loadModule(driver) { throw BindingError.moduleUnavailable(driver, detail: problem) }
            guard sysfs.exists(driverDirectory) else {
                throw BindingError.moduleUnavailable(driver, detail: "\(sysfs.path(driverDirectory)) does not exist after loading it: is it a PCI driver?")
            }
        }

        // vfio-pci's containers need the type1 IOMMU backend, a module of its own.
        if driver == Self.vfioDriver && !sysfs.exists("/sys/module/vfio_iommu_type1"),
           let problem = loadModule("vfio_iommu_type1") {
            throw BindingError.moduleUnavailable("vfio_iommu_type1", detail: problem)
        }

        if let previous = info.driver { try remember(previous, for: address) }
        try sysfs.write(override, driver + "\n")
        if let previous = info.driver { try sysfs.write("/sys/bus/pci/drivers/\(previous)/unbind", "\(address)") }
        try sysfs.write("/sys/bus/pci/drivers_probe", "\(address)")
        return BindResult(previousDriver: info.driver)
    }

    /// What `unbind` did: the driver the device went back to, if any.
    public struct UnbindResult: Equatable {
        /// The driver that `bind` remembered, if any; nil means the kernel chose (drivers_probe).
        public let restoredDriver: String?
    }

    /// Gives `address` back to its kernel driver.
    @discardableResult
    public func unbind(_ address: PCIAddress) throws -> UnbindResult {
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        let overridePath = info.sysfsDirectory + "/driver_override"
        let override = (try? sysfs.read(overridePath)) ?? ""
        let onUIO = info.uioIndex != nil || (info.driver?.hasPrefix("uio") ?? false) || info.driver == Self.vfioDriver
        // A device left without a driver by a stale override is worth repairing too.
        let stranded = info.driver == nil && !override.isEmpty && override != "(null)"
        guard onUIO || stranded else { throw BindingError.notBoundToUIO(address, driver: info.driver) }
        let overrideFile = try requireWritableOverride(info, doing: "unbinding a device")

        try sysfs.write(overrideFile, "\n")          // an empty override clears it
        if let current = info.driver { try sysfs.write("/sys/bus/pci/drivers/\(current)/unbind", "\(address)") }
        restoreOwnership(info)

        let memory = Self.memoryFile(address)
        var restored: String?
        if let remembered = try? sysfs.read(memory), !remembered.isEmpty,
           sysfs.exists("/sys/bus/pci/drivers/\(remembered)"),
           (try? sysfs.write("/sys/bus/pci/drivers/\(remembered)/bind", "\(address)")) != nil {
            restored = remembered
        } else {
            try sysfs.write("/sys/bus/pci/drivers_probe", "\(address)")
        }
        try? FileManager.default.removeItem(atPath: sysfs.path(memory))
        return UnbindResult(restoredDriver: restored)
    }

    /// Polls the `driver` link until `accept` says yes (the kernel probes asynchronously for
    /// some drivers); returns the last driver seen and whether it was accepted.
    public func waitForDriver(_ address: PCIAddress, timeout: Double = 5, accept: (String?) -> Bool) -> (driver: String?, accepted: Bool) {
        let link = "/sys/bus/pci/devices/\(address)/driver"
        let end = Date().addingTimeInterval(timeout)
        while true {
            let driver = sysfs.linkTarget(link)
            if accept(driver) { return (driver, true) }
            if Date() >= end { return (driver, false) }
            usleep(50_000)
        }
    }

    /// `config` back to 0644 and `resourceN` to 0600, owned by root: the kernel's defaults,
    /// undoing what the udev helper gave the group.
    func restoreOwnership(_ info: PCIDeviceInfo) {
        let dir = info.sysfsDirectory
        for name in sysfs.list(dir) where name == "config" || (name.hasPrefix("resource") && name.dropFirst(8).first?.isNumber == true) {
            let path = sysfs.path(dir + "/" + name)
            _ = chown(path, 0, 0)
            _ = chmod(path, name == "config" ? 0o644 : 0o600)
        }
    }

    private func remember(_ driver: String, for address: PCIAddress) throws {
        let directory = sysfs.path(Self.memoryDirectory)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = sysfs.path(Self.memoryFile(address))
        guard FileManager.default.createFile(atPath: path, contents: Data((driver + "\n").utf8)) else {
            throw systemError("create", path: path)
        }
    }

    /// The `driver_override` path, after checking that this user may write it.
    private func requireWritableOverride(_ info: PCIDeviceInfo, doing what: String) throws -> String {
        let override = info.sysfsDirectory + "/driver_override"
        guard sysfs.exists(override) else {
            throw UIOError.device("\(sysfs.path(override)) does not exist: this kernel has no driver_override (Linux 3.16 or later needed)")
        }
        // access(2) answers for the real user, who is the one running uioctl.
        guard access(sysfs.path(override), W_OK) == 0 else { throw BindingError.needsRoot(what, path: sysfs.path(override)) }
        return override
    }
}
