import UIO

/// A split virtqueue in DMA memory (virtio 1.0 §2.4), laid out as legacy devices require:
/// the descriptor table, the available ring, then the used ring at the next 4096-byte boundary.
///
/// Buffers are posted as fixed chains of `chainLength` descriptors (1, or 2 when the
/// virtio-net header must have a descriptor of its own). Chains start at multiples of
/// `chainLength`, and the driver's state is indexed by a chain's head descriptor, the `id`
/// the used ring returns: no translation between ids and chains on the packet path.
///
/// The ring starts in order (`SplitVirtqueue+InOrder.swift`): ring position `p` always uses
/// chain `p mod chainCount`, so the available ring is written once and the hot path keeps no
/// stack of free chains. The first used element that breaks that order (or a used index
/// beyond what was posted) moves the ring for good to the any-order bookkeeping below, which
/// trusts no id the device returns.
public struct SplitVirtqueue {
    // Descriptor flags (virtio 1.0 §2.4.5) and ring flags (§2.4.6, §2.4.8).
    public static let descriptorNext: UInt16 = 1
    public static let descriptorWrite: UInt16 = 2
    public static let availableNoInterrupt: UInt16 = 1
    public static let usedNoNotify: UInt16 = 1

    public let size: Int
    public let chainLength: Int
    @usableFromInline let chainCount: Int
    /// log2(chainLength): chain `c` starts at descriptor `c << chainShift`.
    @usableFromInline let chainShift: Int
    /// Whether the device has so far returned every chain in the order it was posted.
    @usableFromInline var inOrder = true
    /// size − 1: ring positions are indices masked with it, and valid ids are at most it.
    @usableFromInline let mask: Int
    @usableFromInline let region: DMARegion
    @usableFromInline let descriptors: UnsafeMutableRawPointer
    @usableFromInline let available: UnsafeMutableRawPointer
    @usableFromInline let used: UnsafeMutableRawPointer
    /// The buffer posted in the chain headed by each descriptor; nil for free chains and
    /// for descriptors that are not heads, so a bogus id from the device finds nothing.
    @usableFromInline let buffers: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>?>
    /// A stack of the head descriptors of free chains; kept only once the ring is no longer
    /// in order (in order, the free chains are those after `availableIndex`).
    @usableFromInline let freeHeads: UnsafeMutablePointer<UInt16>
    @usableFromInline var freeCount: Int
    /// Our copy of `avail.idx`: the device only sees it when `publish()` stores it.
    @usableFromInline var availableIndex: UInt16 = 0
    @usableFromInline var lastUsedIndex: UInt16 = 0
    /// From a buffer's slot address to where the virtio-net header goes, right before the
    /// frame (`PacketBufferHeader.dataOffset` − header length); set by `prepareDescriptors`.
    @usableFromInline var headerOffset: UInt64 = 0
    @usableFromInline var headerLength: UInt32 = 0
    /// Byte offset in the notify window for this queue.
    public var notifyOffset = 0

    public var descriptorsPhysical: UInt64 { region.physicalAddress }
    public var availablePhysical: UInt64 { region.physicalAddress + UInt64(16 * size) }
    public var usedPhysical: UInt64 { region.physicalAddress + UInt64(Self.usedOffset(size: size)) }

    static func usedOffset(size: Int) -> Int {
        (16 * size + 6 + 2 * size + Virtio.LegacyRegister.queueAlignment - 1) & ~(Virtio.LegacyRegister.queueAlignment - 1)
    }

    static func bytes(size: Int) -> Int { usedOffset(size: size) + 6 + 8 * size }

    public init(size: Int, chainLength: Int, allocator: some DMAAllocator) throws {
        guard size >= 2, size <= 32768, size & (size - 1) == 0 else { throw UIOError.invalidRingSize(size, maximum: 32768) }
        self.size = size
        precondition(chainLength == 1 || chainLength == 2, "chains are one or two descriptors")
        self.chainLength = chainLength
        chainCount = size / chainLength
        chainShift = chainLength == 2 ? 1 : 0
        mask = size - 1
        region = try allocator.allocate(size: Self.bytes(size: size), contiguous: true)
        descriptors = region.virtualAddress
        available = region.virtualAddress + 16 * size
        used = region.virtualAddress + Self.usedOffset(size: size)
        buffers = .allocate(capacity: size)
        buffers.initialize(repeating: nil, count: size)
        // Highest head at the bottom, so that chains are first handed out from descriptor 0.
        freeHeads = .allocate(capacity: chainCount)
        for c in 0..<chainCount { freeHeads[c] = UInt16((chainCount - 1 - c) * chainLength) }
        freeCount = chainCount
        // Fixed links inside each chain.
        for c in 0..<chainCount {
            for d in 0..<(chainLength - 1) {
                let index = c * chainLength + d
                descriptor(index).storeBytes(of: UInt16(index + 1), toByteOffset: 14, as: UInt16.self)
            }
        }
        // In order, ring position p holds chain p mod chainCount, for good.
        for position in 0..<size {
            available.storeBytes(of: UInt16((position % chainCount) * chainLength), toByteOffset: 4 + 2 * position, as: UInt16.self)
        }
    }

    /// Frees the ring memory and returns posted buffers to their pools. Only after a device reset.
    public func destroy(allocator: some DMAAllocator) {
        if inOrder {
            // Only the chains still with the device hold buffers; the others name stale ones.
            for k in 0..<outstanding {
                let head = ((Int(lastUsedIndex) + k) & (chainCount - 1)) << chainShift
                if let b = buffers[head] { Mempool.unsafeFree(b) }
            }
        } else {
            for id in 0..<size { if let b = buffers[id] { Mempool.unsafeFree(b) } }
        }
        buffers.deallocate()
        freeHeads.deallocate()
        allocator.free(region)
    }

    @inlinable func descriptor(_ index: Int) -> UnsafeMutableRawPointer { descriptors + 16 &* index }

    /// Writes one descriptor: `struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; }`.
    @inlinable func setDescriptor(_ index: Int, address: UInt64, length: Int, flags: UInt16) {
        let d = descriptor(index)
        d.storeBytes(of: address, as: UInt64.self)
        d.storeBytes(of: UInt32(truncatingIfNeeded: length), toByteOffset: 8, as: UInt32.self)
        d.storeBytes(of: flags, toByteOffset: 12, as: UInt16.self)
    }

    @inlinable public var hasFreeChain: Bool { freeCount > 0 }

    /// Writes the fields of every descriptor that never change: the links inside chains, the
    /// flags, and (for RX, where every buffer has the same capacity) the lengths. The hot
    /// path then writes only addresses, and TX lengths.
    mutating func prepareDescriptors(headerLength: Int, rxDataLength: Int?) {
        let write = rxDataLength != nil ? Self.descriptorWrite : 0
        headerOffset = UInt64(PacketBufferHeader.dataOffset - headerLength)
        self.headerLength = UInt32(headerLength)
        for c in 0..<chainCount {
            let head = c * chainLength
            if chainLength == 1 {
                setDescriptor(head, address: 0, length: headerLength + (rxDataLength ?? 0), flags: write)
            } else {
                setDescriptor(head, address: 0, length: headerLength, flags: write | Self.descriptorNext)
                setDescriptor(head + 1, address: 0, length: rxDataLength ?? 0, flags: write)
            }
        }
    }

    /// Fills every free chain (RX) with a fresh buffer from `pool`, as far as the pool has
    /// buffers; returns how many were posted. Only the addresses change: lengths and flags
    /// were written by `prepareDescriptors`.
    @inlinable mutating func postReceiveBuffers(from pool: Mempool) -> Int {
        // Copies of the loop, so that none tests the chain length or the order per buffer.
        if inOrder {
            return chainLength == 1 ? postReceiveBuffersInOrder(from: pool, split: false)
                                    : postReceiveBuffersInOrder(from: pool, split: true)
        }
        return chainLength == 1 ? postReceiveBuffersAnyOrder(from: pool, split: false)
                                : postReceiveBuffersAnyOrder(from: pool, split: true)
    }

    @inlinable @inline(__always)
    mutating func postReceiveBuffersAnyOrder(from pool: Mempool, split: Bool) -> Int {
        let free = freeHeads, shadow = buffers, descriptors = descriptors, headerOffset = headerOffset
        let posted = freeCount < pool.available ? freeCount : pool.available
        let start = Int(truncatingIfNeeded: availableIndex)
        var top = freeCount
        forEachRun(from: start, count: posted) { first, end in
            var entry = available + (4 &+ 2 &* first)
            _ = pool.unsafeAllocateHeaders(count: end &- first) { buffer in
                top &-= 1
                let head = Int(truncatingIfNeeded: free[top])
                shadow[head] = buffer
                let slot = buffer.pointee.slotPhysicalAddress
                let d = descriptors + 16 &* head
                d.storeBytes(of: slot &+ headerOffset, as: UInt64.self)
                if split { d.storeBytes(of: slot &+ UInt64(PacketBufferHeader.dataOffset), toByteOffset: 16, as: UInt64.self) }
                entry.storeBytes(of: UInt16(truncatingIfNeeded: head), as: UInt16.self)
                entry += 2
            }
        }
        freeCount = top
        availableIndex = UInt16(truncatingIfNeeded: start &+ posted)
        return posted
    }

    /// Posts the first `count` packets of `batch` (TX); returns the bytes queued. The
    /// virtio-net header (all zero: no offloads, virtio 1.0 §5.1.6.2) goes in each buffer's
    /// headroom, right before the frame.
    ///
    /// Posting stops before the first frame whose length is beyond its buffer's capacity
    /// (`PacketBufferHeader.dataCapacity`): the device would read past the buffer and send
    /// whatever lies there. `posted` frames from the front of `batch` were posted.
    @inlinable @inline(__always) mutating func postTransmitBuffers(from batch: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>,
                                                 count: Int) -> (posted: Int, bytes: Int) {
        if inOrder {
            return chainLength == 1 ? postTransmitBuffersInOrder(from: batch, count: count, split: false)
                                    : postTransmitBuffersInOrder(from: batch, count: count, split: true)
        }
        return chainLength == 1 ? postTransmitBuffersAnyOrder(from: batch, count: count, split: false)
                                : postTransmitBuffersAnyOrder(from: batch, count: count, split: true)
    }

    @inlinable @inline(__always)
    mutating func postTransmitBuffersAnyOrder(from batch: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>, count: Int,
                                              split: Bool) -> (posted: Int, bytes: Int) {
        let free = freeHeads, shadow = buffers, descriptors = descriptors
        let headerOffset = headerOffset, headerLength = headerLength
        let start = Int(truncatingIfNeeded: availableIndex)
        var top = freeCount, bytes = 0, next = batch
        forEachRun(from: start, count: count) { first, end in
            var entry = available + (4 &+ 2 &* first)
            let stop = available + (4 &+ 2 &* end)
            while entry != stop {
                let buffer = next.pointee
                // As in the in-order path: nothing of an over-long frame is written.
                let length = buffer.pointee.length
                if _slowPath(length > buffer.pointee.dataCapacity) { return }
                next += 1
                top &-= 1
                let head = Int(truncatingIfNeeded: free[top])
                shadow[head] = buffer
                Self.writeTransmitChain(head, buffer, length: length, descriptors: descriptors, headerOffset: headerOffset,
                                        headerLength: headerLength, split: split)
                entry.storeBytes(of: UInt16(truncatingIfNeeded: head), as: UInt16.self)
                entry += 2
                bytes &+= Int(truncatingIfNeeded: length)
            }
        }
        let posted = next - batch
        freeCount = top
        availableIndex = UInt16(truncatingIfNeeded: start &+ posted)
        return (posted, bytes)
    }

    /// Writes TX chain `head` for `buffer`, whose frame is `length` bytes (loaded by the caller
    /// before the header store below, which the compiler cannot tell apart from it). The virtio-net
    /// header (all zero: no offloads, virtio 1.0 §5.1.6.2) goes in the buffer's headroom: 16
    /// zero bytes before the frame (one store) cover both header sizes (10 and 12).
    @inlinable @inline(__always)
    static func writeTransmitChain(_ head: Int, _ buffer: UnsafeMutablePointer<PacketBufferHeader>, length: UInt32,
                                   descriptors: UnsafeMutableRawPointer, headerOffset: UInt64, headerLength: UInt32, split: Bool) {
        (PacketBufferHeader.data(buffer) - 16).storeBytes(of: .zero, as: SIMD2<UInt64>.self)
        let slot = buffer.pointee.slotPhysicalAddress
        let d = descriptors + 16 &* head
        d.storeBytes(of: slot &+ headerOffset, as: UInt64.self)
        if split {
            d.storeBytes(of: slot &+ UInt64(PacketBufferHeader.dataOffset), toByteOffset: 16, as: UInt64.self)
            d.storeBytes(of: length, toByteOffset: 24, as: UInt32.self)
        } else {
            d.storeBytes(of: length &+ headerLength, toByteOffset: 8, as: UInt32.self)
        }
    }

    /// Makes posted buffers visible to the device: descriptors first, then `avail.idx`.
    @inlinable func publish() {
        MemoryBarrier.write()
        Volatile.store16(available + 2, availableIndex)
    }

    /// Whether the device wants a notification (it has not set VRING_USED_F_NO_NOTIFY).
    /// The full barrier orders our `avail.idx` store before the flag load (virtio 1.0 §2.4.7.2).
    @inlinable func deviceWantsNotification() -> Bool {
        MemoryBarrier.full()
        return Volatile.load16(used) & Self.usedNoNotify == 0
    }

    /// Whether the device has returned buffers we have not taken yet.
    @inlinable public var hasUsed: Bool { Volatile.load16(used + 2) != lastUsedIndex }

    /// Takes up to `limit` used buffers, in the order the device returned them, and returns
    /// how many. `consume(buffer, writtenBytes)` receives each; its chain is free again. A
    /// device that returns an id holding no buffer is a device bug: it is skipped, not trusted.
    @inlinable mutating func takeUsed(limit: Int, _ consume: (UnsafeMutablePointer<PacketBufferHeader>, Int) -> Void) -> Int {
        inOrder ? takeUsedInOrder(limit: limit, consume) : takeUsedAnyOrder(limit: limit, consume)
    }

    @inlinable
    mutating func takeUsedAnyOrder(limit: Int, _ consume: (UnsafeMutablePointer<PacketBufferHeader>, Int) -> Void) -> Int {
        let start = Int(truncatingIfNeeded: lastUsedIndex)
        let ready = Int(truncatingIfNeeded: Volatile.load16(used + 2) &- lastUsedIndex)
        if ready == 0 || limit <= 0 { return 0 }
        // The used elements are read after the index that covers them.
        MemoryBarrier.read()
        let count = ready < limit ? ready : limit
        let shadow = buffers, free = freeHeads, mask = mask
        let top = freeCount
        var pushed = top
        forEachRun(from: start, count: count) { first, end in
            // `struct virtq_used_elem { le32 id; le32 len; }`
            var element = used + (4 &+ 8 &* first)
            let stop = used + (4 &+ 8 &* end)
            while element != stop {
                let id = Int(truncatingIfNeeded: element.load(as: UInt32.self))
                let written = Int(truncatingIfNeeded: element.load(fromByteOffset: 4, as: UInt32.self))
                element += 8
                guard id <= mask, let buffer = shadow[id] else { continue }
                shadow[id] = nil
                free[pushed] = UInt16(truncatingIfNeeded: id)
                pushed &+= 1
                consume(buffer, written)
            }
        }
        lastUsedIndex = UInt16(truncatingIfNeeded: start &+ count)
        freeCount = pushed
        // Every buffer taken freed one chain.
        return pushed &- top
    }

    /// Splits the ring positions `start ..< start + count` (not yet masked; `count` at most
    /// `size`) into at most two runs that do not wrap, and calls `body(first, end)` for each:
    /// a loop over a run steps a pointer and needs no masking per element.
    @inlinable @inline(__always)
    func forEachRun(from start: Int, count: Int, _ body: (_ first: Int, _ end: Int) -> Void) {
        let first = start & mask
        let run = count < size &- first ? count : size &- first
        body(first, first &+ run)
        if run < count { body(0, count &- run) }
    }

    /// Sets or clears VRING_AVAIL_F_NO_INTERRUPT (virtio 1.0 §2.4.7).
    @inlinable func suppressInterrupts(_ suppress: Bool) {
        Volatile.store16(available, suppress ? Self.availableNoInterrupt : 0)
        MemoryBarrier.full()
    }
}

extension SplitVirtqueue {
    /// Posts one request made of several descriptors that use no packet buffer (control
    /// commands), starting at descriptor 0. Synchronous use only: one request at a time.
    mutating func postRequest(_ parts: [(address: UInt64, length: Int, deviceWritable: Bool)]) {
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            setDescriptor(i, address: part.address, length: part.length,
                          flags: (part.deviceWritable ? Self.descriptorWrite : 0) | (last ? 0 : Self.descriptorNext))
            descriptor(i).storeBytes(of: UInt16(last ? 0 : i + 1), toByteOffset: 14, as: UInt16.self)
        }
        available.storeBytes(of: 0, toByteOffset: 4 + 2 * (Int(availableIndex) & mask), as: UInt16.self)
        availableIndex &+= 1
        publish()
    }

    /// Consumes one used element of a request posted with `postRequest`.
    mutating func popRequest() -> Bool {
        guard hasUsed else { return false }
        MemoryBarrier.read()
        lastUsedIndex &+= 1
        return true
    }
}
