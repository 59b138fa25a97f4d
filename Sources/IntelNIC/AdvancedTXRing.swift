import UIO

/// One transmit ring of advanced TX data descriptors, as the 82599 (datasheet §7.2.3.2.4)
/// and the 82576 (datasheet §7.2.2.3) share it, and the buffer sent from each slot, freed
/// once the device reports the descriptor done.
///
/// Descriptors from `cleanIndex` up to (not including) `index` belong to the device.
public struct AdvancedTXRing {
    /// Descriptors cleaned at once (ixy's `TX_CLEAN_BATCH`): DD is checked only on the last
    /// of a batch, and RS makes the device write it back.
    public static let cleanBatch = 32

    public let ring: DMARegion
    @usableFromInline let descriptors: UnsafeMutableRawPointer
    @usableFromInline let buffers: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>?>
    public let size: Int
    @usableFromInline let mask: Int
    /// The next descriptor to fill (ixy's `tx_index`).
    @usableFromInline var index = 0
    /// The first descriptor not yet cleaned (ixy's `clean_index`).
    @usableFromInline var cleanIndex = 0
    /// Frames refused by `transmit` because their length was beyond their buffer (see
    /// `DeviceStatistics.txOversize`), over the ring's life.
    public internal(set) var oversizeRefused: UInt64 = 0

    /// `name` ("ixgbe", "igb") goes into the error messages.
    public init(size: Int, allocator: some DMAAllocator, name: String) throws {
        let ring = try allocator.allocate(size: size * AdvancedTXDescriptor.size, contiguous: true)
        // TDBAL's low 7 bits are ignored (82599 datasheet §8.2.3.9.5); the 82576's TDBAL alike.
        guard ring.physicalAddress & 127 == 0 else {
            allocator.free(ring)
            throw UIOError.device("\(name): the allocator returned a TX ring at 0x\(String(ring.physicalAddress, radix: 16)), which is not 128-byte aligned as the device requires")
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

    /// ixy's `ixgbe_tx_batch`: frees the buffers of completed clean batches, then fills one
    /// descriptor per frame while the ring has room, and writes the tail register (TDT)
    /// once. The frames taken leave `batch`; returns how many.
    ///
    /// A frame longer than its buffer (`PacketBufferHeader.dataCapacity`) is taken too, but
    /// not sent: the device would read past the buffer and send what lies there. It is freed
    /// and counted in `oversizeRefused`.
    @inlinable
    public mutating func transmit<R: RegisterAccess>(from batch: inout PacketBatch, registers: R, tail: Int) -> Int {
        var bytes = 0, oversize: UInt64 = 0
        return transmit(from: &batch, registers: registers, tail: tail, bytes: &bytes, oversize: &oversize)
    }

    /// The same, adding the bytes of the frames sent to `bytes` and the refused frames to
    /// `oversize` (a queue pair's counters; inlined, the unused sums of the plain variant cost
    /// nothing). Returns how many frames left the batch, refused ones included.
    @inlinable
    public mutating func transmit<R: RegisterAccess>(from batch: inout PacketBatch, registers: R, tail: Int,
                                                     bytes: inout Int, oversize: inout UInt64) -> Int {
        clean()
        var taken = 0
        while true {
            let posted = post(from: &batch, registers: registers, tail: tail, bytes: &bytes)
            taken &+= posted.count
            if _fastPath(!posted.stoppedAtOversize) { return taken }
            refuseFirst(of: &batch, oversize: &oversize)
            taken &+= 1
        }
    }

    /// ixy's loop: one descriptor per frame from the front of `batch` while the ring has
    /// room, then one tail write (TDT). Stops before a frame longer than its buffer.
    @inlinable @inline(__always)
    mutating func post<R: RegisterAccess>(from batch: inout PacketBatch, registers: R, tail: Int,
                                          bytes: inout Int) -> (count: Int, stoppedAtOversize: Bool) {
        let clean = cleanIndex
        var index = self.index
        var sent = 0
        var stopped = false
        let count = batch.count
        while sent < count {
            let next = (index &+ 1) & mask
            if next == clean { break }  // ring full: one slot always stays empty
            let buffer = batch.unsafeHeader(at: sent)
            let length = buffer.pointee.length
            if _slowPath(length > buffer.pointee.dataCapacity) {
                stopped = true
                break
            }
            buffers[index] = buffer
            AdvancedTXDescriptor.setRead(descriptor(index), bufferAddress: buffer.pointee.dataPhysicalAddress,
                                         length: Int(truncatingIfNeeded: length))
            bytes &+= Int(truncatingIfNeeded: length)
            index = next
            sent &+= 1
        }
        if sent > 0 {
            batch.unsafeRemoveFirst(sent)
            self.index = index
            MemoryBarrier.write()
            registers.write32(tail, UInt32(truncatingIfNeeded: index))
        }
        return (sent, stopped)
    }

    /// Frees and counts the frame at the front of `batch`, which `post` stopped at.
    @inline(never) @usableFromInline
    mutating func refuseFirst(of batch: inout PacketBatch, oversize: inout UInt64) {
        Mempool.unsafeFree(batch.unsafeHeader(at: 0))
        batch.unsafeRemoveFirst(1)
        oversizeRefused &+= 1
        oversize &+= 1
    }

    /// Returns every buffer still in the ring to its pool and frees the ring. Only after
    /// the device has been reset.
    public func destroy(allocator: some DMAAllocator) {
        for i in 0..<size { if let b = buffers[i] { Mempool.unsafeFree(b) } }
        buffers.deallocate()
        allocator.free(ring)
    }
}
