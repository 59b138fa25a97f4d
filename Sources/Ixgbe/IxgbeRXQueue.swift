import UIO

/// One receive queue: a ring of advanced RX descriptors in DMA memory, the buffer posted in
/// each slot (ixy's `virtual_addresses`) and the mempool the buffers come from.
///
/// Everything is allocated once, in `init`; the hot path only moves pointers.
@usableFromInline
struct IxgbeRXQueue {
    @usableFromInline let ring: DMARegion
    @usableFromInline let descriptors: UnsafeMutableRawPointer
    /// The buffer posted in each descriptor; every slot holds one once `fill()` has run.
    @usableFromInline let buffers: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>?>
    @usableFromInline let size: Int
    @usableFromInline let mask: Int
    @usableFromInline let mempool: Mempool
    /// The next descriptor to check for DD (ixy's `rx_index`).
    @usableFromInline var index = 0
    /// Set while skipping the rest of a frame that spans several descriptors.
    @usableFromInline var discarding = false
    /// Frames dropped because they spanned more than one descriptor.
    @usableFromInline var droppedFragments: UInt64 = 0

    init(size: Int, mempoolSize: Int, allocator: some DMAAllocator) throws {
        let mempool = try Mempool(count: mempoolSize, allocator: allocator)
        let ring: DMARegion
        do {
            ring = try allocator.allocate(size: size * AdvancedRXDescriptor.size, contiguous: true)
        } catch {
            mempool.destroy(using: allocator)
            throw error
        }
        // RDBAL's low 7 bits are ignored (82599 datasheet §8.2.3.8.1).
        guard ring.physicalAddress & 127 == 0 else {
            allocator.free(ring)
            mempool.destroy(using: allocator)
            throw UIOError.device("ixgbe: the allocator returned an RX ring at 0x\(String(ring.physicalAddress, radix: 16)), which is not 128-byte aligned as the 82599 requires")
        }
        self.mempool = mempool
        self.ring = ring
        self.size = size
        mask = size - 1
        descriptors = ring.virtualAddress
        buffers = .allocate(capacity: size)
        buffers.initialize(repeating: nil, count: size)
    }

    @inlinable func descriptor(_ i: Int) -> UnsafeMutableRawPointer { descriptors + i &* AdvancedRXDescriptor.size }

    /// Posts a fresh buffer in every descriptor (datasheet §4.6.7.1: the ring is filled
    /// before the queue is enabled). False if the mempool ran out.
    func fill() -> Bool {
        for i in 0..<size where buffers[i] == nil {
            guard let buffer = mempool.unsafeAllocateHeader() else { return false }
            buffers[i] = buffer
            AdvancedRXDescriptor.setRead(descriptor(i), packetAddress: buffer.pointee.dataPhysicalAddress)
        }
        return true
    }

    /// Whether the next descriptor has been written back.
    @inlinable var hasPending: Bool {
        AdvancedRXDescriptor.statusError(descriptor(index)) & AdvancedRXDescriptor.STAT_DD != 0
    }

    /// Returns posted buffers to the pool and frees the ring and the pool. Only after the
    /// device has been reset, so that nothing writes to them any more.
    func destroy(allocator: some DMAAllocator) {
        for i in 0..<size { if let b = buffers[i] { Mempool.unsafeFree(b) } }
        buffers.deallocate()
        allocator.free(ring)
        mempool.destroy(using: allocator)
    }
}
