/// Every error swift-uio reports. Each description says what went wrong and what to do about it.
public enum UIOError: Error, Equatable, CustomStringConvertible {
    case invalidPCIAddress(String, reason: String)
    case noSuchDevice(PCIAddress)
    case notBoundToUIO(PCIAddress, driver: String?)
    case permissionDenied(path: String)
    case noHugepages(detail: String)
    case pagemapNeedsCapSysAdmin
    case notContiguous(size: Int)
    case systemCall(String, path: String, errno: Int32)
    /// No driver drives this vendor and device ID. `supported` lists the IDs that are driven,
    /// when the thrower knows them (the registry in `UIODevices` does; a driver handed another
    /// driver's device leaves it empty).
    case unsupportedDevice(vendor: UInt16, device: UInt16, supported: String = "")
    case invalidRingSize(Int, maximum: Int)
    case malformedSysfs(path: String, content: String)
    case noSuchBAR(PCIAddress, index: Int)
    case portIOUnavailable(String)
    case device(String)

    public var description: String {
        switch self {
        case .invalidPCIAddress(let text, let reason):
            return "invalid PCI address '\(text)': \(reason); expected DDDD:BB:DD.F, for example 0000:00:04.0 (see `uioctl list`)"
        case .noSuchDevice(let address):
            return "no PCI device at \(address): check the address with `uioctl list` or `lspci -D`"
        case .notBoundToUIO(let address, let driver):
            // Never raw sysfs writes: if this NIC carries the machine's own network, an unbind
            // cuts the machine off. `uioctl bind` refuses a NIC whose interface is in use.
            let bound = driver.map { "it is bound to '\($0)'" } ?? "it is bound to no driver"
            return "\(address) is not bound to a UIO driver (\(bound)): as root, run `uioctl bind \(address)`, which "
                + "refuses a NIC whose network interface is in use (check with `uioctl list`), or `uioctl bind --vfio \(address)` "
                + "where the machine has an IOMMU"
        case .permissionDenied(let path):
            return "permission denied on \(path): run as root, or give your group access with `uioctl udev install` (see udev/README.md: a UIO device can DMA anywhere in memory, so that access is root-equivalent)"
        case .noHugepages(let detail):
            return "no hugepages available (\(detail)): run `uioctl hugepages 64` or `sysctl vm.nr_hugepages=64`"
        case .pagemapNeedsCapSysAdmin:
            return "/proc/self/pagemap returned physical frame 0: reading physical addresses needs CAP_SYS_ADMIN (Linux ≥ 4.2); run as root or grant the capability (setcap cap_sys_admin+ep)"
        case .notContiguous(let size):
            return "cannot allocate \(size) physically contiguous bytes: one DMA allocation must fit in a single 2 MiB hugepage"
        case .systemCall(let call, let path, let errno):
            let what = "\(call) \(path) failed: \(String(cString: strerror(errno))) (errno \(errno))"
            return Self.fix(path: path, errno: errno).map { "\(what): \($0)" } ?? what
        case .unsupportedDevice(let vendor, let device, let supported):
            return "no swift-uio driver for PCI device \(hex(vendor)):\(hex(device))\(supported.isEmpty ? "" : "; supported: \(supported)"). Pick a supported NIC (`uioctl list` shows which ones swift-uio can drive) and give this one back to its kernel driver"
        case .invalidRingSize(let size, let maximum):
            return "ring size \(size) is not a power of two between 2 and \(maximum): use a power of two such as 256 (a virtio device that reports such a size needs its queue size set to a power of two, e.g. QEMU's rx_queue_size/tx_queue_size)"
        case .malformedSysfs(let path, let content):
            return "unexpected content in \(path): '\(content)'"
        case .noSuchBAR(let address, let index):
            return "\(address) has no BAR \(index) (see `uioctl status \(address)`)"
        case .portIOUnavailable(let why):
            return "port I/O unavailable: \(why)"
        case .device(let message):
            return message
        }
    }
}

extension UIOError {
    /// What to do when opening one of the files the drivers use fails this way, where that is
    /// known: a bare "No such file or directory" does not say that a driver is not bound.
    static func fix(path: String, errno code: Int32) -> String? {
        switch code {
        case ENOENT where path.contains("/dev/uio"):
            return "the UIO device node does not exist: bind the NIC with `uioctl bind ADDR` (it loads uio_pci_generic), "
                + "check with `uioctl status ADDR`; in a container, pass the node in (e.g. `--device \(path)`)"
        case ENOENT where path.contains("/dev/vfio"):
            return "the VFIO group node does not exist: bind the NIC with `uioctl bind --vfio ADDR` (it loads vfio-pci), "
                + "and check `uioctl doctor ADDR` for the IOMMU; in a container, pass /dev/vfio/vfio and the group's node in"
        case ENOENT where path.contains("/sys/bus/pci/devices/"):
            return "no such PCI device or file: check the address with `uioctl list` or `lspci -D`"
        case EBUSY where path.contains("/dev/uio") || path.contains("/dev/vfio"):
            return "another process holds the device open: stop it first (`fuser -v \(path)` names it)"
        default:
            return nil
        }
    }
}

@usableFromInline func hex<T: BinaryInteger>(_ value: T, width: Int = 4) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

#if canImport(Glibc)
import Glibc
#endif

extension UIOError {
    /// Maps an errno from a failed call on `path` to the most specific error.
    public static func fromErrno(_ call: String, path: String, errno code: Int32 = errno) -> UIOError {
        if code == EACCES || code == EPERM { return .permissionDenied(path: path) }
        return .systemCall(call, path: path, errno: code)
    }
}
