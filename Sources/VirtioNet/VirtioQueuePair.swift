import UIO

/// The packet path of one virtio-net queue pair: receiveq(q) at virtqueue 2q and
/// transmitq(q) at 2q + 1 (virtio 1.0 §5.1.2), with the mempool its RX ring is filled from
/// and its counter slot.
///
/// A plain value with no reference to the device: the device keeps one per pair, and
/// `VirtioNetQueue` carries one to a thread of its own. Whoever holds it is its only user.
@usableFromInline
struct VirtioQueuePairState<R: RegisterAccess> {
    @usableFromInline var rx: SplitVirtqueue
    @usableFromInline var tx: SplitVirtqueue
    /// For the doorbells only: writes to this pair's notify address (modern) or of this
    /// pair's queue numbers to QueueNotify (legacy), which the device decodes per queue.
    @usableFromInline let transport: VirtioTransport<R>
    @usableFromInline let rxIndex: Int
    @usableFromInline let txIndex: Int
    @usableFromInline let mempool: Mempool
    @usableFromInline let rxDataCapacity: Int
    /// virtio-net header bytes before each frame: 12 with VERSION_1 or MRG_RXBUF, else 10.
    @usableFromInline let headerLength: Int
    /// This pair's slot in the device's `QueueCounterSlots`: written only by the holder.
    @usableFromInline let counters: UnsafeMutablePointer<DeviceStatistics>

    @inlinable
    mutating func receive(into batch: inout PacketBatch) -> Int {
        let start = batch.count
        let headerLength = self.headerLength
        var slot = batch.unsafeSlots + start, bytes = 0, largest: UInt = 0
        // The loop only records each length; the rare frame that needs a closer look is
        // screened afterwards, so that the common case carries no branch per frame.
        var taken = rx.takeUsed(limit: batch.capacity &- start) { buffer, written in
            // Unsigned: a length below the header wraps to a huge value and is screened too.
            let length = UInt(bitPattern: written &- headerLength)
            largest = largest > length ? largest : length
            buffer.pointee.storedLength = UInt32(truncatingIfNeeded: length)
            bytes &+= Int(bitPattern: length)
            slot.pointee = buffer
            slot += 1
        }
        if _slowPath(largest > UInt(min(rxDataCapacity, EthernetFrame.maxUntaggedLength))) {
            (taken, bytes) = screenReceived(batch.unsafeSlots + start, count: taken)
        }
        if taken > 0 {
            batch.unsafeSetCount(start &+ taken)
            counters.pointee.rxPackets &+= UInt64(taken)
            counters.pointee.rxBytes &+= UInt64(bytes)
        }
        // Also when nothing came: a ring left empty while the mempool was exhausted must be
        // refilled once buffers are back, or no frame could ever arrive again.
        if rx.freeCount > 0 { refillRX() }
        return taken
    }

    /// The slow path of `receive`: never trusts a length beyond what the buffer holds, and
    /// gives back frames longer than Ethernet allows (the device delivers whatever fits the
    /// buffer: QEMU does, up to 1920 bytes here; Ethernet allows 1514, 1518 tagged), counted.
    /// Returns how many of the `count` frames at `slots` are kept (moved to the front) and
    /// their bytes.
    @usableFromInline @inline(never)
    mutating func screenReceived(_ slots: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>, count: Int) -> (kept: Int, bytes: Int) {
        let capacity = UInt32(rxDataCapacity)
        var kept = 0, bytes = 0, oversize = 0
        for i in 0..<count {
            let buffer = slots[i]
            var length = buffer.pointee.length
            // What the device wrote less the header, truncated to 32 bits: a device length
            // below the header wrapped to within `headerLength` of UInt32.max, a value no
            // real length reaches (the device's length is itself 32 bits).
            if length > capacity { length = length > UInt32.max - UInt32(headerLength) ? 0 : capacity }
            if EthernetFrame.isOversize(PacketBufferHeader.data(buffer), length: Int(length)) {
                Mempool.unsafeFree(buffer)
                oversize += 1
                continue
            }
            buffer.pointee.storedLength = length
            bytes += Int(length)
            slots[kept] = buffer
            kept += 1
        }
        if oversize > 0 { counters.pointee.rxOversize &+= UInt64(oversize) }
        return (kept, bytes)
    }

    /// Posts fresh buffers into every free RX chain, then publishes and notifies once.
    @inlinable mutating func refillRX() {
        if rx.postReceiveBuffers(from: mempool) == 0 { return }
        rx.publish()
        if rx.deviceWantsNotification() { transport.notify(queue: rxIndex, notifyOffset: rx.notifyOffset) }
    }

    /// Takes frames from the front of `batch` while the TX ring has room; returns how many
    /// left the batch. A frame longer than its buffer is among them but is not sent: it is
    /// freed and counted in `txOversize`.
    @inlinable
    mutating func transmit(from batch: inout PacketBatch) -> Int {
        // Collect what the device has sent since the last call.
        _ = tx.takeUsed(limit: Int.max) { buffer, _ in Mempool.unsafeFree(buffer) }
        let room = min(batch.count, tx.freeCount)
        if room == 0 { return 0 }
        var (sent, bytes) = tx.postTransmitBuffers(from: batch.unsafeSlots, count: room)
        var taken = sent
        if _slowPath(sent < room) { (taken, sent, bytes) = refuseOversize(in: batch.unsafeSlots, room: room, sent: sent, bytes: bytes) }
        batch.unsafeRemoveFirst(taken)
        if sent > 0 {
            tx.publish()
            if tx.deviceWantsNotification() { transport.notify(queue: txIndex, notifyOffset: tx.notifyOffset) }
        }
        counters.pointee.txPackets &+= UInt64(sent)
        counters.pointee.txBytes &+= UInt64(bytes)
        return taken
    }

    /// The slow path of `transmit`: posting stopped at a frame longer than its buffer. Frees
    /// and counts that frame, posts on from the one after it, and repeats for any other; the
    /// refused frames stay in the front `taken` slots, which `transmit` removes.
    @inline(never) @usableFromInline
    mutating func refuseOversize(in slots: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>, room: Int,
                                 sent: Int, bytes: Int) -> (taken: Int, sent: Int, bytes: Int) {
        var taken = sent, sent = sent, bytes = bytes
        while taken < room {
            // slots[taken] is the frame that stopped the last post.
            Mempool.unsafeFree(slots[taken])
            counters.pointee.txOversize &+= 1
            taken += 1
            // Post on from the frame after it (the ring takes chains in posting order).
            let more = tx.postTransmitBuffers(from: slots + taken, count: room - taken)
            taken += more.posted
            sent += more.posted
            bytes += more.bytes
            if taken == room { break }
        }
        return (taken, sent, bytes)
    }

    /// The used ring's `idx` against what this pair has consumed (virtio 1.0 §2.4.8).
    func receiveProbe() -> ReceiveProbe {
        ReceiveProbe(address: UnsafeRawPointer(rx.used + 2), width: 2, mask: 0xffff, expected: UInt32(rx.lastUsedIndex))
    }

    func destroy(allocator: some DMAAllocator) {
        rx.destroy(allocator: allocator)
        tx.destroy(allocator: allocator)
        mempool.destroy(using: allocator)
    }
}

/// Queue pair `index` of a `VirtioNetDevice`, detached from it for one thread to own
/// (`MultiQueueDevice.detachQueue`). Give it back with `attachQueue` before the device is
/// shut down.
///
/// `Sendable` by construction rather than by the compiler's proof (it holds raw ring
/// pointers): the rings, mempool and counter slot are this pair's alone, and being
/// `~Copyable` there is never a second handle to race with. The doorbell registers are
/// shared with the other pairs, but each pair writes only its own queue numbers.
public struct VirtioNetQueue<R: RegisterAccess>: ~Copyable, QueuePair, @unchecked Sendable {
    @usableFromInline var state: VirtioQueuePairState<R>
    public let index: Int

    init(state: VirtioQueuePairState<R>, index: Int) {
        self.state = state
        self.index = index
    }

    @inlinable public mutating func receive(into batch: inout PacketBatch) -> Int { state.receive(into: &batch) }
    @inlinable public mutating func transmit(from batch: inout PacketBatch) -> Int { state.transmit(from: &batch) }
    @inlinable public func hasPendingReceive() -> Bool { state.rx.hasUsed }
    public mutating func enableInterrupt() { state.rx.suppressInterrupts(false) }
    public mutating func disableInterrupt() { state.rx.suppressInterrupts(true) }
    public func receiveProbe() -> ReceiveProbe { state.receiveProbe() }
    public var statistics: DeviceStatistics { state.counters.pointee }
    public var bufferPoolAvailable: Int { state.mempool.available }
    /// This pair's pool, for the application's own TX buffers (pktgen).
    public var mempool: Mempool { state.mempool }
}
