/// A fixed-capacity batch of owned packet buffers: what rx fills and tx drains.
///
/// Its storage is allocated once, so moving packets through it never allocates. Buffers
/// still in the batch when it is destroyed go back to their pools.
public struct PacketBatch: ~Copyable {
    @usableFromInline let slots: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>
    public let capacity: Int
    @usableFromInline var _count: Int
    @inlinable public var count: Int { _count }

    public init(capacity: Int) {
        precondition(capacity > 0, "a batch needs room for at least one packet")
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        _count = 0
    }

    deinit {
        for i in 0..<count { Mempool.unsafeFree(slots[i]) }
        slots.deallocate()
    }

    @inlinable public var isEmpty: Bool { count == 0 }
    @inlinable public var isFull: Bool { count == capacity }
    @inlinable public var freeSpace: Int { capacity - count }

    /// The packet at `index`, borrowed.
    @inlinable public subscript(index: Int) -> PacketView {
        precondition(index >= 0 && index < count, "packet index \(index) out of range 0..<\(count)")
        return PacketView(header: slots[index])
    }

    /// Adds a packet. The batch must not be full (check `isFull`).
    @inlinable public mutating func append(_ packet: consuming PacketBuffer) {
        unsafeAppend(packet.unsafeReleaseHeader())
    }

    /// Tops the batch up to `target` packets (at most its capacity) with buffers from `pool`,
    /// handing each new one to `prepare`; returns how many were added (fewer when the pool runs
    /// low). A buffer keeps what its last user left in it, length included, so a sender that
    /// prefilled its frames only changes what differs per packet (as DPDK's txonly reuses a
    /// template). One pass over the pool's free stack: no Optional or bounds check per buffer.
    @inlinable public mutating func fill(from pool: Mempool, upTo target: Int, _ prepare: (PacketView) -> Void) -> Int {
        let start = _count
        let end = target < capacity ? target : capacity
        if end <= start { return 0 }
        var slot = slots + start
        let added = pool.unsafeAllocateHeaders(count: end &- start) { header in
            prepare(PacketView(header: header))
            slot.pointee = header
            slot += 1
        }
        _count = start &+ added
        return added
    }

    /// Takes the last packet out.
    @inlinable public mutating func popLast() -> PacketBuffer? {
        guard count > 0 else { return nil }
        _count -= 1
        return PacketBuffer(unsafeHeader: slots[count])
    }

    /// Frees every packet in the batch.
    @inlinable public mutating func removeAll() {
        for i in 0..<count { Mempool.unsafeFree(slots[i]) }
        _count = 0
    }

    /// Frees the packet at `index`, moving the last packet into its place (order not kept).
    @inlinable public mutating func swapRemove(at index: Int) {
        precondition(index >= 0 && index < count, "packet index \(index) out of range 0..<\(count)")
        Mempool.unsafeFree(slots[index])
        _count -= 1
        slots[index] = slots[count]
    }

    /// Frees the packets for which `shouldRemove` is true; the rest keep their order.
    @inlinable public mutating func removeAll(where shouldRemove: (PacketView) -> Bool) {
        var kept = 0
        for i in 0..<count {
            let header = slots[i]
            if shouldRemove(PacketView(header: header)) {
                Mempool.unsafeFree(header)
            } else {
                slots[kept] = header
                kept += 1
            }
        }
        _count = kept
    }

    // MARK: For drivers

    /// Appends a header the caller owns; the batch owns it afterwards.
    @inlinable public mutating func unsafeAppend(_ header: UnsafeMutablePointer<PacketBufferHeader>) {
        precondition(count < capacity, "batch is full (capacity \(capacity))")
        slots[count] = header
        _count += 1
    }

    /// The batch's slot array, for drivers that fill or drain many packets in one loop
    /// (then `unsafeSetCount`). Slots below `count` are owned by the batch.
    @inlinable public var unsafeSlots: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>> { slots }

    /// Sets the count after a driver wrote slots directly through `unsafeSlots`.
    @inlinable public mutating func unsafeSetCount(_ count: Int) {
        precondition(count >= 0 && count <= capacity)
        _count = count
    }

    @inlinable public func unsafeHeader(at index: Int) -> UnsafeMutablePointer<PacketBufferHeader> {
        slots[index]
    }

    /// Drops the first `n` packets from the batch without freeing them: the caller (a
    /// transmit call) has taken ownership of them. The rest move to the front, in order.
    @inlinable public mutating func unsafeRemoveFirst(_ n: Int) {
        precondition(n >= 0 && n <= count)
        if n == 0 { return }
        let rest = count - n
        if rest > 0 { (slots).update(from: slots + n, count: rest) }
        _count = rest
    }
}
