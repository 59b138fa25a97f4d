import ArgumentParser
import Glibc
import UIO
import UIODevices
import VFIO

/// `uioctl doctor [ADDR]`: checks what a swift-uio driver needs, and says how to fix each gap.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the host (and optionally one device) for what swift-uio needs.",
        discussion: "Exits non-zero when any check fails. Read-only: it changes nothing.")

    @Argument(help: "A PCI address (DDDD:BB:DD.F or BB:DD.F) to check as well.")
    var address: String?

    @OptionGroup var options: SysfsOptions

    func run() throws {
        let sysfs = options.sysfs
        // Parse first: a typo is a usage error, not a failed check.
        let device = try address.map { try PCIAddress(parsing: $0) }
        var checks = Self.hostChecks(sysfs: sysfs)
        if let device { checks += Self.deviceChecks(device, sysfs: sysfs) }
        for check in checks { print(check.rendered) }
        let failures = checks.filter { $0.verdict == .fail }.count
        let warnings = checks.filter { $0.verdict == .warn }.count
        print("\n\(failures) failed, \(warnings) warnings, \(checks.count - failures - warnings) ok")
        if failures > 0 { throw ExitCode.failure }
    }

    static func hostChecks(sysfs: Sysfs) -> [DoctorCheck] {
        let host = HostFacts(sysfs: sysfs)
        var checks: [DoctorCheck] = []

        for module in ["uio", "uio_pci_generic"] {
            checks.append(sysfs.exists("/sys/module/\(module)")
                ? .ok("kernel module \(module) is loaded")
                : .fail("kernel module \(module) is not loaded", fix: "modprobe \(module)"))
        }

        let total = host.meminfo("HugePages_Total") ?? 0
        let free = host.meminfo("HugePages_Free") ?? 0
        let sizeKB = host.meminfo("Hugepagesize") ?? 2048
        if total == 0 {
            checks.append(.fail("no hugepages reserved (HugePages_Total is 0 in /proc/meminfo)",
                                fix: "uioctl hugepages 64   (or: sysctl vm.nr_hugepages=64)"))
        } else if free == 0 {
            checks.append(.fail("all \(total) hugepages are in use (HugePages_Free is 0)",
                                fix: "stop the process holding them, or reserve more: uioctl hugepages \(total + 64)"))
        } else {
            checks.append(.ok("\(free) of \(total) hugepages of \(sizeKB) kB free"))
        }
        if sizeKB != 2048 {
            checks.append(.warn("the default hugepage size is \(sizeKB) kB; swift-uio allocates 2 MiB pages",
                                fix: "reserve 2 MiB pages: echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"))
        }

        // swift-uio maps anonymous MAP_HUGETLB memory, so a mount is only a convenience
        // (for other tools, and to see usage); its absence is a warning.
        let mounts = host.hugetlbfsMounts()
        checks.append(mounts.isEmpty
            ? .warn("hugetlbfs is not mounted (swift-uio does not need it; DPDK-style tools do)",
                    fix: "uioctl hugepages \(max(total, 64)) --mount /dev/hugepages")
            : .ok("hugetlbfs mounted at \(mounts.joined(separator: ", "))"))

        if let caps = host.effectiveCapabilities() {
            checks.append(caps & HostFacts.capSysAdmin != 0
                ? .ok("CAP_SYS_ADMIN is effective: /proc/self/pagemap shows physical addresses")
                : .fail("no CAP_SYS_ADMIN: /proc/self/pagemap reads physical frame 0, so DMA addresses cannot be found",
                        fix: "run as root, or: setcap cap_sys_admin,cap_sys_rawio+ep <your driver binary>"))
        } else {
            checks.append(.warn("cannot read CapEff from /proc/self/status"))
        }

        checks += vfioHostChecks(sysfs: sysfs)
        return checks
    }

    static func deviceChecks(_ address: PCIAddress, sysfs: Sysfs) -> [DoctorCheck] {
        let info: PCIDeviceInfo
        do { info = try PCIDeviceInfo(address: address, sysfs: sysfs) } catch {
            // noSuchDevice's text already names the address and says to check it.
            return [.fail("\(error)", fix: "uioctl list --all")]
        }
        var checks: [DoctorCheck] = [.ok("\(address) exists: \(Format.ids(info.vendorID, info.deviceID)) \(Format.className(info.classCode))")]

        if let kind = DriverRegistry.driver(vendor: info.vendorID, device: info.deviceID) {
            checks.append(.ok("swift-uio has a driver for it: \(kind.rawValue)"))
        } else {
            checks.append(.warn(DriverRegistry.unsupported(vendor: info.vendorID, device: info.deviceID).description))
        }

        if let group = try? sysfs.read(info.sysfsDirectory + "/iommu_group/type"), group.hasPrefix("DMA") {
            checks.append(.fail("\(address) is in an IOMMU group with a translating domain (\(group)): DMA to physical addresses will fault",
                                fix: "boot with iommu=pt, or use vfio-pci"))
        }

        if info.driver == "vfio-pci" { return checks + vfioDeviceChecks(info, sysfs: sysfs) }
        guard let index = info.uioIndex else {
            let error = UIOError.notBoundToUIO(address, driver: info.driver)
            checks.append(.fail(error.description,
                                fix: "modprobe uio_pci_generic; echo uio_pci_generic > \(info.sysfsDirectory)/driver_override; then unbind and bind it (this takes the device away from its kernel driver)"))
            return checks
        }
        checks.append(.ok("bound to \(info.driver ?? "a UIO driver") as uio\(index)"))

        // access(2) answers for the real user, which is who runs the driver.
        var files = ["/dev/uio\(index)", info.sysfsDirectory + "/config"]
        files += info.bars.map { info.sysfsDirectory + "/resource\($0.index)" }
        for file in files {
            let path = sysfs.path(file)
            if access(path, F_OK) != 0 {
                checks.append(.fail("\(path) does not exist", fix: "check that udev created it (ls -l /dev/uio*)"))
            } else if access(path, R_OK | W_OK) != 0 {
                checks.append(.fail("no read/write access to \(path)", fix: UIOError.permissionDenied(path: path).description))
            } else {
                checks.append(.ok("read/write access to \(path)"))
            }
        }
        return checks
    }
}
