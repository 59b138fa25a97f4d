#if canImport(Glibc)
import Glibc
#endif

/// DMA memory from 2 MiB hugepages, translated through `/proc/self/pagemap`.
///
/// Hugepages are never swapped, and each is physically contiguous, so a buffer that does not
/// cross a 2 MiB boundary has one fixed physical address. The memory is anonymous
/// (MAP_HUGETLB), so nothing is left in a hugetlbfs mount if the process dies.
public struct HugepageAllocator: DMAAllocator, Sendable {
    public static let hugepageSize = 2 << 20
    public let sysfs: Sysfs

    public init(sysfs: Sysfs = .live) { self.sysfs = sysfs }

    /// A hugepage is one physical block, so a mempool translates once per 2 MiB, not per buffer.
    public var contiguousBlockSize: Int { Self.hugepageSize }

    public func allocate(size: Int, contiguous: Bool) throws -> DMARegion {
        let length = (size + Self.hugepageSize - 1) & ~(Self.hugepageSize - 1)
        if contiguous && length > Self.hugepageSize { throw UIOError.notContiguous(size: size) }
        let pointer = mmap(nil, max(length, Self.hugepageSize), PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            let code = errno
            if code == ENOMEM || code == EINVAL { throw UIOError.noHugepages(detail: hugepageStatus(needing: length)) }
            throw UIOError.fromErrno("mmap MAP_HUGETLB", path: "(\(length) bytes)", errno: code)
        }
        // Locked: pagemap translations stay valid. Hugepages are not swapped, but be explicit.
        if mlock(pointer, length) != 0 {
            let code = errno
            munmap(pointer, length)
            throw UIOError.fromErrno("mlock", path: "(\(length) bytes of hugepages)", errno: code)
        }
        memset(pointer, 0, length)
        do {
            let physical = try physicalAddress(of: pointer)
            return DMARegion(virtualAddress: pointer, physicalAddress: physical, size: length)
        } catch {
            munmap(pointer, length)
            throw error
        }
    }

    public func free(_ region: DMARegion) {
        munmap(region.virtualAddress, region.size)
    }

    /// Reads the page frame number from `/proc/self/pagemap` (one 64-bit entry per 4 KiB page:
    /// bit 63 present, bits 0–54 PFN; see Documentation/admin-guide/mm/pagemap.rst).
    public func physicalAddress(of pointer: UnsafeRawPointer) throws -> UInt64 {
        let path = sysfs.path("/proc/self/pagemap")
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: path) }
        defer { close(fd) }
        let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let virtual = UInt(bitPattern: pointer)
        var entry: UInt64 = 0
        guard pread(fd, &entry, 8, off_t(virtual / pageSize * 8)) == 8 else {
            throw UIOError.fromErrno("pread", path: path)
        }
        guard entry & (1 << 63) != 0 else { throw UIOError.device("page at \(pointer) is not present in memory") }
        let frame = entry & ((1 << 55) - 1)
        guard frame != 0 else { throw UIOError.pagemapNeedsCapSysAdmin }
        return frame * UInt64(pageSize) + UInt64(virtual % pageSize)
    }

    /// Explains why no hugepage could be had, from /proc/meminfo.
    func hugepageStatus(needing bytes: Int) -> String {
        let meminfo = (try? sysfs.read("/proc/meminfo")) ?? ""
        func value(_ key: String) -> Int? {
            meminfo.split(separator: "\n").first { $0.hasPrefix(key + ":") }
                .flatMap { Int($0.split(separator: " ")[1]) }
        }
        let total = value("HugePages_Total") ?? 0
        let free = value("HugePages_Free") ?? 0
        if total == 0 { return "no hugepages reserved" }
        return "needed \(bytes / Self.hugepageSize) free 2 MiB hugepages, \(free) of \(total) are free"
    }
}
