import UIO

/// One transmit queue: a ring of advanced TX data descriptors in DMA memory and the buffer
/// sent from each slot, freed once the device reports the descriptor done.
///
/// Descriptors from `cleanIndex` up to (not including) `index` belong to the device.
@usableFromInline
struct IxgbeTXQueue {
    /// Descriptors cleaned at once (ixy's `TX_CLEAN_BATCH`): DD is checked only on the last
    /// of a batch, and RS makes the device write it back.
    @usableFromInline static let cleanBatch = 32

    @usableFromInline let ring: DMARegion
    @usableFromInline let descriptors: UnsafeMutableRawPointer
    @usableFromInline let buffers: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>?>
    @usableFromInline let size: Int
    @usableFromInline let mask: Int
    /// The next descriptor to fill (ixy's `tx_index`).
    @usableFromInline var index = 0
    /// The first descriptor not yet cleaned (ixy's `clean_index`).
    @usableFromInline var cleanIndex = 0

    init(size: Int, allocator: some DMAAllocator) throws {
        let ring = try allocator.allocate(size: size * AdvancedTXDescriptor.size, contiguous: true)
        // TDBAL's low 7 bits are ignored (82599 datasheet §8.2.3.9.5).
        guard ring.physicalAddress & 127 == 0 else {
            allocator.free(ring)
            throw UIOError.device("ixgbe: the allocator returned a TX ring at 0x\(String(ring.physicalAddress, radix: 16)), which is not 128-byte aligned as the 82599 requires")
        }
        self.ring = ring
        self.size = size
        mask = size - 1
        descriptors = ring.virtualAddress
        buffers = .allocate(capacity: size)
        buffers.initialize(repeating: nil, count: size)
    }

    @inlinable func descriptor(_ i: Int) -> UnsafeMutableRawPointer { descriptors + i &* AdvancedTXDescriptor.size }

    /// Frees the buffers of every completed clean batch.
    @inlinable mutating func clean() {
        var clean = cleanIndex
        while true {
            let cleanable = (index &- clean) & mask
            if cleanable < Self.cleanBatch { break }
            let last = (clean &+ Self.cleanBatch &- 1) & mask
            guard AdvancedTXDescriptor.status(descriptor(last)) & AdvancedTXDescriptor.STAT_DD != 0 else { break }
            MemoryBarrier.read()
            var i = clean
            while true {
                if let b = buffers[i] { Mempool.unsafeFree(b) }
                buffers[i] = nil
                if i == last { break }
                i = (i &+ 1) & mask
            }
            clean = (last &+ 1) & mask
        }
        cleanIndex = clean
    }

    /// Returns every buffer still in the ring to its pool and frees the ring. Only after
    /// the device has been reset.
    func destroy(allocator: some DMAAllocator) {
        for i in 0..<size { if let b = buffers[i] { Mempool.unsafeFree(b) } }
        buffers.deallocate()
        allocator.free(ring)
    }
}
