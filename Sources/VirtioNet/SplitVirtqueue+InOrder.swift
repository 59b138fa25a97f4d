import UIO

/// The packet path while the device returns chains in the order they were posted, as QEMU's
/// and vhost's virtio-net do for both receive and transmit.
///
/// Ring position `p` then always uses chain `p mod chainCount`: the available ring was written
/// once by `init`, the chains from `lastUsedIndex` to `availableIndex` are the device's and
/// every other chain is free, so no stack of free chains is kept. Each used element is still
/// checked: its id must be the chain of its position. The first that is not (or a used index
/// beyond what was posted) calls `leaveInOrder()`, and from the next call on the ring carries
/// on with the any-order bookkeeping, which skips ids that hold no buffer. VIRTIO_F_IN_ORDER is not needed for this.
extension SplitVirtqueue {
    /// Chains still with the device.
    @inlinable var outstanding: Int { Int(truncatingIfNeeded: availableIndex &- lastUsedIndex) }

    @inlinable @inline(__always)
    mutating func postReceiveBuffersInOrder(from pool: Mempool, split: Bool) -> Int {
        let shadow = buffers, descriptors = descriptors, headerOffset = headerOffset, shift = chainShift
        let posted = freeCount < pool.available ? freeCount : pool.available
        let start = Int(truncatingIfNeeded: availableIndex)
        forEachChainRun(from: start, count: posted) { first, end in
            var head = first &<< shift
            _ = pool.unsafeAllocateHeaders(count: end &- first) { buffer in
                shadow[head] = buffer
                let slot = buffer.pointee.slotPhysicalAddress
                let d = descriptors + 16 &* head
                d.storeBytes(of: slot &+ headerOffset, as: UInt64.self)
                if split { d.storeBytes(of: slot &+ UInt64(PacketBufferHeader.dataOffset), toByteOffset: 16, as: UInt64.self) }
                head &+= split ? 2 : 1
            }
        }
        freeCount &-= posted
        availableIndex = UInt16(truncatingIfNeeded: start &+ posted)
        return posted
    }

    @inlinable @inline(__always)
    mutating func postTransmitBuffersInOrder(from batch: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>, count: Int,
                                             split: Bool) -> (posted: Int, bytes: Int) {
        let shadow = buffers, descriptors = descriptors, shift = chainShift
        let headerOffset = headerOffset, headerLength = headerLength
        let start = Int(truncatingIfNeeded: availableIndex)
        var bytes = 0, next = batch
        forEachChainRun(from: start, count: count) { first, end in
            var head = first &<< shift
            let stop = end &<< shift
            while head != stop {
                let buffer = next.pointee
                // Stop before a frame longer than its buffer (see `postTransmitBuffers`); the
                // second run, if any, stops at the same frame before writing anything.
                let length = buffer.pointee.length
                if _slowPath(length > buffer.pointee.dataCapacity) { return }
                next += 1
                shadow[head] = buffer
                Self.writeTransmitChain(head, buffer, length: length, descriptors: descriptors, headerOffset: headerOffset,
                                        headerLength: headerLength, split: split)
                bytes &+= Int(truncatingIfNeeded: length)
                head &+= split ? 2 : 1
            }
        }
        let posted = next - batch
        freeCount &-= posted
        availableIndex = UInt16(truncatingIfNeeded: start &+ posted)
        return (posted, bytes)
    }

    @inlinable
    mutating func takeUsedInOrder(limit: Int, _ consume: (UnsafeMutablePointer<PacketBufferHeader>, Int) -> Void) -> Int {
        // Two copies of the loop, so that neither tests the chain length per element.
        chainLength == 1 ? takeUsedInOrder(limit: limit, split: false, consume) : takeUsedInOrder(limit: limit, split: true, consume)
    }

    @inlinable @inline(__always)
    mutating func takeUsedInOrder(limit: Int, split: Bool, _ consume: (UnsafeMutablePointer<PacketBufferHeader>, Int) -> Void) -> Int {
        let start = Int(truncatingIfNeeded: lastUsedIndex)
        let ready = Int(truncatingIfNeeded: Volatile.load16(used + 2) &- lastUsedIndex)
        if ready == 0 || limit <= 0 { return 0 }
        // A device that claims more than was posted is not returning our chains in order.
        // The next call takes the elements the any-order way (`hasUsed` stays true until
        // then); calling it from here would make `consume`'s state live in memory.
        if _slowPath(ready > outstanding) {
            leaveInOrder()
            return 0
        }
        // The used elements are read after the index that covers them.
        MemoryBarrier.read()
        let count = ready < limit ? ready : limit
        let shadow = buffers, chainMask = chainCount &- 1
        // `struct virtq_used_elem { le32 id; le32 len; }`, from the first element.
        let elements = used + 4
        var taken = 0, position = start & mask, inOrder = true
        // At most two runs of the used ring, split where it wraps.
        runs: while taken < count {
            let end = position &+ (count &- taken) < size ? position &+ (count &- taken) : size
            var i = position
            while i != end {
                // The chain that ring position i was posted with.
                let head = split ? (i & chainMask) &<< 1 : i
                if _slowPath(Int(truncatingIfNeeded: elements.load(fromByteOffset: 8 &* i, as: UInt32.self)) != head) {
                    inOrder = false
                    break
                }
                let written = Int(truncatingIfNeeded: elements.load(fromByteOffset: 8 &* i &+ 4, as: UInt32.self))
                // Set when this position was posted: in order, every chain up to `availableIndex` holds one.
                consume(shadow[head].unsafelyUnwrapped, written)
                i &+= 1
            }
            taken &+= i &- position
            if !inOrder { break runs }
            position = 0
        }
        lastUsedIndex = UInt16(truncatingIfNeeded: start &+ taken)
        freeCount &+= taken
        // The element out of order and those after it wait for the next call, as above.
        if _slowPath(!inOrder) { leaveInOrder() }
        return taken
    }

    /// Moves the ring to the any-order bookkeeping: the chains after `availableIndex` become
    /// the stack of free chains and lose the stale buffers they still name; the chains from
    /// `lastUsedIndex` to `availableIndex` stay with the device. Posts from now on write the
    /// available ring's entries.
    @usableFromInline
    mutating func leaveInOrder() {
        precondition(inOrder)
        inOrder = false
        let held = outstanding
        precondition(held + freeCount == chainCount, "in-order ring lost track of its chains")
        var top = 0
        // The free chains follow the posted ones; the first to be posted next ends on top.
        for k in stride(from: chainCount - 1, through: held, by: -1) {
            let head = ((Int(availableIndex) &+ k - held) & (chainCount - 1)) << chainShift
            buffers[head] = nil
            freeHeads[top] = UInt16(head)
            top += 1
        }
        freeCount = top
    }

    /// `forEachRun` over chains rather than descriptors: splits the ring positions
    /// `start ..< start + count` (count at most `chainCount`) into at most two runs of chain
    /// numbers that do not wrap.
    @inlinable @inline(__always)
    func forEachChainRun(from start: Int, count: Int, _ body: (_ first: Int, _ end: Int) -> Void) {
        let first = start & (chainCount &- 1)
        let run = count < chainCount &- first ? count : chainCount &- first
        if run > 0 { body(first, first &+ run) }
        if run < count { body(0, count &- run) }
    }
}
