#if canImport(Glibc)
import Glibc
#endif
import UIO

/// A VFIO container, `/dev/vfio/vfio`: one IOMMU address space (type1 v2) that groups join.
///
/// It also keeps the table of DMA mappings made in it, because the IOVAs are swift-uio's
/// choice: memory is mapped at increasing IOVAs from `firstIOVA`, and a pointer is translated
/// by finding the mapping that holds it. A class, because the device (through its group) and
/// the DMA allocator share it and the fd must stay open while either lives; it is used only
/// at set-up and shutdown, never per packet.
public final class VFIOContainer: @unchecked Sendable {
    public let fileDescriptor: CInt
    private var iommuSet = false

    /// One region of process memory that the device may reach, at `iova` on the device's side.
    public struct Mapping: Sendable, Equatable {
        public let virtualAddress: UInt
        public let iova: UInt64
        public let size: Int
    }
    public private(set) var mappings: [Mapping] = []
    private var nextIOVA: UInt64

    /// 4 GiB: above the 32-bit space, so IOVAs never collide with the x86 MSI window at
    /// 0xfee00000 (which type1 reserves) nor look like low physical addresses, and well inside
    /// the 39-bit address width that small IOMMUs (QEMU's intel-iommu default) support.
    public static let firstIOVA: UInt64 = 1 << 32

    public init(path: String = "/dev/vfio/vfio", firstIOVA: UInt64 = VFIOContainer.firstIOVA) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT {
                throw UIOError.device("\(path) does not exist: the vfio module is not loaded; as root run `modprobe vfio-pci vfio_iommu_type1` (or `uioctl bind --vfio ADDR`, which loads them)")
            }
            throw UIOError.fromErrno("open", path: path, errno: code)
        }
        fileDescriptor = fd
        nextIOVA = firstIOVA
        let version = ioctl(fd, VFIOABI.getAPIVersion)
        guard version == VFIOABI.apiVersion else {
            close(fd)
            throw UIOError.device("\(path) speaks VFIO API version \(version), swift-uio knows version \(VFIOABI.apiVersion)")
        }
        guard ioctl(fd, VFIOABI.checkExtension, VFIOABI.type1v2IOMMU) == 1 else {
            close(fd)
            throw VFIOError.noType1v2("VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU) is 0")
        }
    }

    deinit {
        for m in mappings { _ = unmapIOVA(m.iova, size: m.size) }
        close(fileDescriptor)
    }

    /// Puts an opened group into this container; the first group also sets the IOMMU type
    /// (the kernel only accepts VFIO_SET_IOMMU once a group is attached).
    func attach(groupDescriptor: CInt, path: String) throws {
        var fd = fileDescriptor
        guard ioctl(groupDescriptor, VFIOABI.groupSetContainer, &fd) == 0 else {
            throw VFIOError.ioctl("VFIO_GROUP_SET_CONTAINER on \(path)", errno: errno)
        }
        if !iommuSet {
            guard ioctl(fileDescriptor, VFIOABI.setIOMMU, VFIOABI.type1v2IOMMU) == 0 else {
                throw VFIOError.noType1v2("VFIO_SET_IOMMU: \(String(cString: strerror(errno)))")
            }
            iommuSet = true
        }
    }

    /// Maps `size` bytes at `pointer` for device reads and writes at the next free IOVA,
    /// aligned to `alignment` (a hugepage, so the IOMMU can use large pages). Returns the IOVA.
    public func map(_ pointer: UnsafeMutableRawPointer, size: Int, alignment: UInt64 = 2 << 20) throws -> UInt64 {
        let iova = (nextIOVA + alignment - 1) & ~(alignment - 1)
        var request = VFIOABI.DMAMap()
        request.flags = VFIOABI.dmaMapRead | VFIOABI.dmaMapWrite
        request.virtualAddress = UInt64(UInt(bitPattern: pointer))
        request.iova = iova
        request.size = UInt64(size)
        guard ioctl(fileDescriptor, VFIOABI.iommuMapDMA, &request) == 0 else {
            let code = errno
            // type1 pins the pages and charges them to RLIMIT_MEMLOCK: ENOMEM is that limit
            // (without CAP_IPC_LOCK), far more often than a real shortage.
            if code == ENOMEM {
                throw VFIOError.memlockLimit(neededBytes: size, limitBytes: Self.memlockLimit())
            }
            throw VFIOError.ioctl("VFIO_IOMMU_MAP_DMA of \(size) bytes at IOVA 0x\(String(iova, radix: 16))", errno: code)
        }
        nextIOVA = iova + UInt64(size)
        mappings.append(Mapping(virtualAddress: UInt(bitPattern: pointer), iova: iova, size: size))
        return iova
    }

    /// Removes the mapping that starts at `pointer`: the device can no longer reach it.
    public func unmap(_ pointer: UnsafeMutableRawPointer) {
        guard let i = mappings.firstIndex(where: { $0.virtualAddress == UInt(bitPattern: pointer) }) else { return }
        _ = unmapIOVA(mappings[i].iova, size: mappings[i].size)
        mappings.remove(at: i)
    }

    /// This process's RLIMIT_MEMLOCK soft limit in bytes (UInt64.max: unlimited), which type1
    /// charges pinned DMA pages to.
    public static func memlockLimit() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &limit) == 0 else { return nil }
        return UInt64(limit.rlim_cur)  // RLIM_INFINITY is all ones: UInt64.max
    }

    /// The IOVA of a byte inside a mapping.
    public func iova(of pointer: UnsafeRawPointer) -> UInt64? {
        let address = UInt(bitPattern: pointer)
        for m in mappings where address >= m.virtualAddress && address < m.virtualAddress + UInt(m.size) {
            return m.iova + UInt64(address - m.virtualAddress)
        }
        return nil
    }

    private func unmapIOVA(_ iova: UInt64, size: Int) -> Bool {
        var request = VFIOABI.DMAUnmap()
        request.iova = iova
        request.size = UInt64(size)
        return ioctl(fileDescriptor, VFIOABI.iommuUnmapDMA, &request) == 0
    }
}

