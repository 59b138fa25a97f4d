import Glibc
import UIO
import VFIO

/// The VFIO half of `uioctl doctor`: is there an IOMMU, and can this user open a device's group.
extension DoctorCommand {
    static func vfioHostChecks(sysfs: Sysfs) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let iommus = sysfs.list("/sys/class/iommu")
        let groups = sysfs.list("/sys/kernel/iommu_groups")
        if iommus.isEmpty && groups.isEmpty {
            // Not a failure: UIO works without an IOMMU. But say why VFIO does not.
            checks.append(.warn("no IOMMU active (/sys/class/iommu and /sys/kernel/iommu_groups are empty): VFIO cannot be used, only UIO, which gives no DMA protection. "
                                + "Debian's kernel is built without CONFIG_VFIO_NOIOMMU, so VFIO has no no-IOMMU fallback there",
                                fix: "enable VT-d (Intel) or AMD-Vi in the firmware and add intel_iommu=on iommu=pt (or amd_iommu=on iommu=pt) to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot); under QEMU: -machine q35 -device intel-iommu,intremap=on"))
            return checks
        }
        if !iommus.isEmpty {
            checks.append(.warn("IOMMU active (\(iommus.joined(separator: ", "))): UIO gives no IOMMU protection, a device can DMA anywhere; VFIO (vfio-pci) would confine it",
                                fix: "for UIO, devices need an identity domain (boot with iommu=pt); for protection, use `uioctl bind --vfio ADDR`"))
        }
        guard !groups.isEmpty else {
            checks.append(.fail("an IOMMU is listed but /sys/kernel/iommu_groups is empty: it is not translating for any device, so VFIO cannot be used",
                                fix: "add intel_iommu=on (or amd_iommu=on) to the kernel command line and reboot"))
            return checks
        }
        checks.append(.ok("\(groups.count) IOMMU groups: VFIO is available, and recommended (the IOMMU confines each device's DMA to memory its driver mapped)"))
        for module in ["vfio_pci", "vfio_iommu_type1"] {
            checks.append(sysfs.exists("/sys/module/\(module)")
                ? .ok("kernel module \(module) is loaded")
                : .warn("kernel module \(module) is not loaded (needed for VFIO)", fix: "modprobe \(module)   (uioctl bind --vfio loads it)"))
        }
        let mode = (try? sysfs.read("/sys/kernel/iommu_groups/\(groups[0])/type")) ?? ""
        if mode == "identity" {
            checks.append(.ok("IOMMU default domain is identity (iommu=pt): UIO devices keep working, VFIO devices still get their own translated domain"))
        }
        return checks
    }

    static func vfioDeviceChecks(_ info: PCIDeviceInfo, sysfs: Sysfs) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let group: VFIOGroupInfo
        do { group = try VFIOGroupInfo(address: info.address, sysfs: sysfs) } catch {
            return [.fail("\(error)", fix: "uioctl doctor (without an address) explains the IOMMU set-up")]
        }
        checks.append(.ok("bound to vfio-pci, IOMMU group \(group.number) (\(group.members.count) device\(group.members.count == 1 ? "" : "s"))"))
        let blockers = group.blockers(sysfs: sysfs)
        checks.append(blockers.isEmpty
            ? .ok("every device in group \(group.number) is on vfio-pci or no driver")
            : .fail(VFIOError.groupNotViable(group: group.number, blockers: blockers).description, fix: "uioctl bind --vfio ADDR, for each of them"))
        for file in ["/dev/vfio/vfio", group.devicePath] {
            let path = sysfs.path(file)
            if access(path, F_OK) != 0 {
                checks.append(.fail("\(path) does not exist", fix: "modprobe vfio-pci vfio_iommu_type1"))
            } else if access(path, R_OK | W_OK) != 0 {
                checks.append(.fail("no read/write access to \(path)", fix: VFIOError.groupPermissionDenied(path: path).description))
            } else {
                checks.append(.ok("read/write access to \(path)"))
            }
        }
        // The driver pins its DMA memory (about 16 MiB for the examples' defaults), charged to
        // RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK.
        if let current = VFIOContainer.memlockLimit() {
            let needed: UInt64 = 32 << 20
            checks.append(current >= needed || getuid() == 0
                ? .ok("locked-memory limit (RLIMIT_MEMLOCK) \(current == .max ? "unlimited" : "\(current >> 10) KiB")\(getuid() == 0 ? " (root)" : "")")
                : .fail("locked-memory limit (RLIMIT_MEMLOCK) is \(current >> 10) KiB: VFIO pins DMA memory against it, and the drivers need about \(needed >> 20) MiB",
                        fix: VFIOError.memlockLimit(neededBytes: Int(needed), limitBytes: current).description))
        }
        return checks
    }
}
