import UIO

/// What can go wrong on the VFIO route. Each description says what to do about it.
public enum VFIOError: Error, Equatable, CustomStringConvertible {
    /// The device has no `iommu_group` link: no IOMMU is active.
    case noIOMMUGroup(PCIAddress)
    /// The device is not bound to vfio-pci.
    case notBoundToVFIO(PCIAddress, driver: String?)
    /// Opening `/dev/vfio/N` was refused.
    case groupPermissionDenied(path: String)
    /// Another process (or this one) holds the group open.
    case groupBusy(path: String)
    /// Some device in the group is bound to a host driver.
    case groupNotViable(group: String, blockers: [String])
    case noType1v2(String)
    /// VFIO_IOMMU_MAP_DMA failed for lack of locked-memory allowance.
    case memlockLimit(neededBytes: Int, limitBytes: UInt64?)
    case ioctl(String, errno: Int32)

    public var description: String {
        switch self {
        case .noIOMMUGroup(let address):
            return "\(address) has no IOMMU group (no /sys/bus/pci/devices/\(address)/iommu_group): no IOMMU is active, so VFIO cannot be used. "
                + "Enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on (or amd_iommu=on) and iommu=pt; Debian's kernel has no VFIO no-IOMMU mode. "
                + "Without an IOMMU use UIO instead (`uioctl bind \(address)`). `uioctl doctor` checks this"
        case .notBoundToVFIO(let address, let driver):
            let bound = driver.map { "it is bound to '\($0)'" } ?? "it is bound to no driver"
            return "\(address) is not bound to vfio-pci (\(bound)): as root, run `uioctl bind --vfio \(address)`"
        case .groupPermissionDenied(let path):
            return "permission denied on \(path): run as root, or give your group the device with `uioctl udev install` (with `driver vfio-pci` and `group NAME` in its config, the rules give /dev/vfio/N to that group; see udev/README.md)"
        case .groupBusy(let path):
            return "\(path) is busy: another process has this IOMMU group open (a VFIO group is used by one process at a time); stop it first"
        case .groupNotViable(let group, let blockers):
            return "IOMMU group \(group) is not viable: \(blockers.joined(separator: ", ")) "
                + "\(blockers.count == 1 ? "is" : "are") bound to a host driver. Every device in a group must be bound to vfio-pci or to nothing: `uioctl bind --vfio ADDR` each of them"
        case .noType1v2(let why):
            return "the VFIO container does not offer the type1v2 IOMMU (\(why)): load it with `modprobe vfio_iommu_type1`"
        case .memlockLimit(let needed, let limit):
            let have = limit.map { $0 == UInt64.max ? "unlimited" : "\($0 / 1024) KiB" } ?? "unknown"
            return "VFIO could not pin \(needed / 1024) KiB more for DMA: the locked-memory limit (RLIMIT_MEMLOCK, now \(have)) is too low. "
                + "Raise it for the user: `ulimit -l unlimited` as root before dropping privileges, `@vfio - memlock unlimited` in /etc/security/limits.conf, or LimitMEMLOCK=infinity in a systemd unit"
        case .ioctl(let what, let code):
            return "\(what) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
