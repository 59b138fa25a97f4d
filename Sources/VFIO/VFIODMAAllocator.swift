#if canImport(Glibc)
import Glibc
#endif
import UIO

/// DMA memory for a device behind an IOMMU: 2 MiB hugepages mapped into the device's VFIO
/// container with VFIO_IOMMU_MAP_DMA, at IOVAs that swift-uio chooses.
///
/// Drivers get the IOVA as the region's device address (`DMARegion.physicalAddress`), so they
/// run unchanged. No `/proc/self/pagemap` and no CAP_SYS_ADMIN: the kernel pins the pages and
/// the IOMMU translates. The device can reach this memory and nothing else.
///
/// The pinned pages count against RLIMIT_MEMLOCK (unless the process has CAP_IPC_LOCK);
/// a refusal says which limit to raise.
public struct VFIODMAAllocator: DMAAllocator, @unchecked Sendable {
    public let container: VFIOContainer

    public init(container: VFIOContainer) { self.container = container }

    /// Each mapping is one run of IOVAs, and hugepage-backed: a 2 MiB block translates once.
    public var contiguousBlockSize: Int { HugepageAllocator.hugepageSize }

    public func allocate(size: Int, contiguous: Bool) throws -> DMARegion {
        let page = HugepageAllocator.hugepageSize
        let length = max(page, (size + page - 1) & ~(page - 1))
        // No mlock: VFIO pins the pages itself, and mlock would charge them to
        // RLIMIT_MEMLOCK a second time. Through the IOMMU the whole mapping is contiguous
        // in IOVA space, so `contiguous` holds at any size.
        let pointer = mmap(nil, length, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            let code = errno
            if code == ENOMEM || code == EINVAL {
                throw UIOError.noHugepages(detail: "needed \(length / page) free 2 MiB hugepages (see HugePages_Free in /proc/meminfo)")
            }
            throw UIOError.fromErrno("mmap MAP_HUGETLB", path: "(\(length) bytes)", errno: code)
        }
        memset(pointer, 0, length)
        do {
            let iova = try container.map(pointer, size: length)
            return DMARegion(virtualAddress: pointer, physicalAddress: iova, size: length)
        } catch {
            munmap(pointer, length)
            throw error
        }
    }

    public func physicalAddress(of pointer: UnsafeRawPointer) throws -> UInt64 {
        guard let iova = container.iova(of: pointer) else {
            throw UIOError.device("\(pointer) is not in memory mapped for DMA in this VFIO container")
        }
        return iova
    }

    /// Unmaps from the IOMMU first (the device loses access), then gives the pages back.
    public func free(_ region: DMARegion) {
        container.unmap(region.virtualAddress)
        munmap(region.virtualAddress, region.size)
    }
}
