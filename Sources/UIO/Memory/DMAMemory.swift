/// Memory a device can read and write by physical address.
@frozen
public struct DMARegion: @unchecked Sendable {
    public let virtualAddress: UnsafeMutableRawPointer
    public let physicalAddress: UInt64
    public let size: Int

    public init(virtualAddress: UnsafeMutableRawPointer, physicalAddress: UInt64, size: Int) {
        self.virtualAddress = virtualAddress
        self.physicalAddress = physicalAddress
        self.size = size
    }
}

/// A source of DMA memory: hugepages on a real system, plain memory with made-up physical
/// addresses in the simulator.
public protocol DMAAllocator {
    /// Allocates `size` bytes, zeroed. With `contiguous`, the whole region is physically
    /// contiguous (a descriptor ring); otherwise only each 2 MiB page is.
    func allocate(size: Int, contiguous: Bool) throws -> DMARegion
    /// The physical address of a byte inside memory this allocator gave out.
    func physicalAddress(of pointer: UnsafeRawPointer) throws -> UInt64
    func free(_ region: DMARegion)
    /// Every aligned block of this many bytes inside a region is physically contiguous, so one
    /// translation serves the whole block (a 2 MiB hugepage; a 4 KiB page at least).
    var contiguousBlockSize: Int { get }
}

extension DMAAllocator {
    public var contiguousBlockSize: Int { 4096 }
}
