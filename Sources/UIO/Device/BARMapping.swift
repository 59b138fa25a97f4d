#if canImport(Glibc)
import Glibc
#endif

/// How swift-uio reaches one BAR. Chosen by `plan`, shown by `uioctl status`.
public enum BARMapping: Equatable, Sendable, CustomStringConvertible {
    /// mmap `/dev/uioN` at `mapIndex` × page size; the BAR starts `offset` bytes in.
    case uioMap(mapIndex: Int, offset: UInt64)
    /// mmap the sysfs `resourceN` file (64-bit and prefetchable BARs, which UIO does not list).
    case resourceFile(path: String)
    /// `in`/`out` instructions after ioperm() (needs CAP_SYS_RAWIO).
    case portInstructions(base: UInt16)
    /// pread/pwrite on sysfs `resourceN`: an I/O-port BAR without ioperm, one syscall per access.
    case portFile(path: String)

    public var description: String {
        switch self {
        case .uioMap(let i, let offset): return "UIO map\(i) (mmap offset \(i) × page size\(offset != 0 ? ", +\(offset)" : ""))"
        case .resourceFile(let path): return "mmap \(path)"
        case .portInstructions(let base): return "port I/O at 0x\(hex(base)) (ioperm)"
        case .portFile(let path): return "pread/pwrite \(path) (no ioperm: one syscall per access)"
        }
    }

    /// The preferred way to reach `bar`: a UIO map where the kernel lists one, else `resourceN`;
    /// for I/O ports, instructions when the process may use them, else the sysfs file.
    public static func plan(bar: PCIBar, device: PCIAddress, uio: UIODeviceInfo?, portIOPermitted: Bool,
                            sysfs: Sysfs = .live) -> BARMapping {
        let resource = sysfs.path("/sys/bus/pci/devices/\(device)/resource\(bar.index)")
        switch bar.kind {
        case .ioPorts:
            if portIOPermitted && bar.start + bar.size <= 0x10000 { return .portInstructions(base: UInt16(bar.start)) }
            return .portFile(path: resource)
        case .memory32, .memory64:
            if let map = uio?.map(covering: bar) {
                // mmap of map N starts at the page holding `addr` (uio.c, uio_mmap_physical).
                // uio_pci_generic already page-aligns `addr` and puts the in-page part in
                // `offset`, so adding `offset` to `start - addr` would count it twice.
                let pageMask = UInt64(sysconf(Int32(_SC_PAGESIZE))) - 1
                return .uioMap(mapIndex: map.index, offset: bar.start - (map.address & ~pageMask))
            }
            return .resourceFile(path: resource)
        }
    }
}
