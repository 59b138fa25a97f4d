import ArgumentParser
import UIO
import UIOSetup
import VFIO

/// `uioctl bind ADDR`: takes a device from its kernel driver and gives it to a UIO driver.
struct BindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bind",
        abstract: "Bind a PCI device to a UIO driver (default uio_pci_generic), remembering its kernel driver.",
        discussion: """
            Needs root. Refuses a device whose network interface has a route, or is up with an \
            address, unless --force: that would cut its traffic (an SSH session, for example). \
            The previous driver is remembered in /run/swift-uio/ADDR.driver for `uioctl unbind`.
            """)

    @Argument(help: "PCI address, DDDD:BB:DD.F or BB:DD.F (see `uioctl list`).")
    var address: String

    @Option(help: "The UIO driver to bind to.")
    var driver: String = UdevConfig.defaultDriver

    @Flag(help: "Bind to vfio-pci instead (needs an IOMMU; loads vfio-pci and vfio_iommu_type1, and checks that the rest of the IOMMU group is on vfio-pci or no driver).")
    var vfio = false

    @Flag(help: "Bind even if the device's network interface is in use.")
    var force = false

    @OptionGroup var options: SysfsOptions

    func run() throws {
        let sysfs = options.sysfs
        let address = try PCIAddress(parsing: address)
        let binding = DriverBinding(sysfs: sysfs, usage: Setup.usage(sysfs))
        let driver = vfio ? DriverBinding.vfioDriver : self.driver
        let result = try binding.bind(address, driver: driver, force: force)
        let from = result.previousDriver.map { " (was \($0))" } ?? " (it had no driver)"
        guard sysfs.root.isEmpty else {
            print("\(address): wrote driver_override, unbind and drivers_probe for \(driver)\(from); not verified under --sysfs-root")
            return
        }
        let (now, ok) = binding.waitForDriver(address) { $0 == driver }
        guard ok else { throw BindingError.didNotBind(address, wanted: driver, driver: now) }
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        let node = vfio ? (try? VFIOGroupInfo(address: address, sysfs: sysfs)).map { ", \($0.devicePath)" } : info.uioIndex.map { ", /dev/uio\($0)" }
        print("\(address) bound to \(driver)\(from)\(node ?? "")")
    }
}

/// `uioctl unbind ADDR`: gives a device back to its kernel driver.
struct UnbindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unbind",
        abstract: "Give a device bound to a UIO driver or vfio-pci back to its kernel driver.",
        discussion: """
            Needs root. Binds the driver that `uioctl bind` or the udev helper remembered in \
            /run/swift-uio/ADDR.driver; without one, clears driver_override and lets the kernel \
            probe (drivers_probe). Also gives config and resourceN back to root (0644, 0600).
            """)

    @Argument(help: "PCI address, DDDD:BB:DD.F or BB:DD.F.")
    var address: String

    @OptionGroup var options: SysfsOptions

    func run() throws {
        let sysfs = options.sysfs
        let address = try PCIAddress(parsing: address)
        let binding = DriverBinding(sysfs: sysfs)
        let result = try binding.unbind(address)
        let how = result.restoredDriver.map { "bound \($0) (remembered)" } ?? "cleared driver_override, drivers_probe"
        guard sysfs.root.isEmpty else {
            print("\(address): \(how); not verified under --sysfs-root")
            return
        }
        let (now, _) = binding.waitForDriver(address) { $0 != nil && !($0!.hasPrefix("uio")) && $0 != DriverBinding.vfioDriver }
        let interfaces = InterfaceUsage(sysfs: sysfs).interfaces(of: address).map(\.name)
        print("\(address): \(how); driver now \(now ?? "none")"
              + (interfaces.isEmpty ? "" : ", interface \(interfaces.joined(separator: ", "))"))
    }
}

enum Setup {
    /// Live: `ip -o addr`. Under --sysfs-root, a fake tree may list an interface's addresses in
    /// ROOT/run/fake-ip-addr/IF (one per line), so that tests never ask about the host's own.
    static func usage(_ sysfs: Sysfs) -> InterfaceUsage {
        guard !sysfs.root.isEmpty else { return InterfaceUsage(sysfs: sysfs) }
        return InterfaceUsage(sysfs: sysfs) { name in
            ((try? sysfs.read("/run/fake-ip-addr/\(name)")) ?? "").split(separator: "\n").map(String.init)
        }
    }
}
