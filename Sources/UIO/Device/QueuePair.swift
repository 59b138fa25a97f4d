/// One RX/TX queue pair, split off its device so that exactly one thread owns it.
///
/// This is the multi-core design in one type: the handle is `~Copyable` (there is only ever
/// one, so only one thread can poll the queue) and `Sendable` (it may move to that thread).
/// It holds everything the packet path needs: its two rings, its own mempool and its own
/// counters. The device keeps what is shared (link, interrupt line, reset, statistics summed
/// off the hot path) and never touches a queue while it is detached.
///
/// Nothing on the packet path is shared between handles: no lock, no atomic, no cache line
/// another core writes. The one shared structure is the counter slot (`QueueCounterSlots`),
/// which only the owner writes and the control path reads.
public protocol QueuePair: ~Copyable, Sendable {
    /// The queue pair's number on its device (0 ..< queue pairs).
    var index: Int { get }
    /// Receives up to `batch.freeSpace` packets into `batch`; returns how many.
    mutating func receive(into batch: inout PacketBatch) -> Int
    /// Queues packets from the front of `batch`; returns how many were taken (as
    /// `NetworkDevice.transmit`).
    mutating func transmit(from batch: inout PacketBatch) -> Int
    /// Whether a received packet is waiting (the re-check after arming the interrupt).
    func hasPendingReceive() -> Bool
    /// Lets this queue's RX raise the device's interrupt / stops it (while polling).
    mutating func enableInterrupt()
    mutating func disableInterrupt()
    /// A way for another thread to test, without touching this handle, whether a packet is
    /// waiting. Valid while the queue sleeps with its interrupt armed: the interrupt thread
    /// uses it to wake only the queues that have work.
    func receiveProbe() -> ReceiveProbe
    /// This queue's counters (read by its owner).
    var statistics: DeviceStatistics { get }
    /// Free buffers in this queue's own mempool.
    var bufferPoolAvailable: Int { get }
}

/// A device whose queue pairs can be handed to threads of their own.
///
/// `withDetachedQueues` moves every queue pair out of the device into a `QueueSet` and runs
/// `user` with the device (for the shared control path: interrupts, link, statistics) and
/// the set. While the set holds them, the device's own `receive(queue:...)` traps, naming
/// the queue: a detached queue has exactly one user. When `user` returns (or throws) the
/// pairs found in the set are attached again; one the user kept is left detached, and
/// `shutdown()` then stops the device's DMA but leaks that pair's memory rather than free
/// memory a thread may still touch.
///
/// (A method generic over the handle type rather than an associated type: Swift 6 does not
/// let an associated type be `~Copyable`.)
public protocol MultiQueueDevice: NetworkDevice, ~Copyable {
    /// The most queue pairs the device offers (virtio: max_virtqueue_pairs).
    var maxQueuePairs: Int { get }
    mutating func withDetachedQueues<U: QueueSetUser & ~Copyable>(_ user: inout U) throws
    /// Counters of queue pair `index`, attached or not: read from its counter slot without
    /// stopping its owner (summed by `statistics()`).
    func queueStatistics(_ index: Int) -> DeviceStatistics
}

/// What runs with a device's detached queue pairs (see `MultiQueueDevice`).
public protocol QueueSetUser: ~Copyable {
    mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws
}

/// The detached queue pairs of one device, one slot per pair, at stable addresses: a thread
/// can be given its pair's slot (`slot(_:)`) and use the handle in place, or `take` it.
public struct QueueSet<Q: QueuePair & ~Copyable>: ~Copyable {
    @usableFromInline let base: UnsafeMutablePointer<Q>
    @usableFromInline let present: UnsafeMutablePointer<Bool>
    public let count: Int

    public init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        present = .allocate(capacity: max(count, 1))
        present.initialize(repeating: false, count: max(count, 1))
    }

    deinit {
        for i in 0..<count where present[i] { (base + i).deinitialize(count: 1) }
        base.deallocate()
        present.deallocate()
    }

    public func contains(_ index: Int) -> Bool { index >= 0 && index < count && present[index] }

    public mutating func put(_ queue: consuming Q) {
        let i = queue.index
        precondition(i >= 0 && i < count && !present[i], "queue set: slot \(i) is taken or out of range 0..<\(count)")
        (base + i).initialize(to: queue)
        present[i] = true
    }

    public mutating func take(_ index: Int) -> Q {
        precondition(contains(index), "queue set: queue \(index) is not in the set")
        present[index] = false
        return (base + index).move()
    }

    /// The handle of queue `index` in place. Valid while the set lives and the handle stays in
    /// it; the caller makes sure only one thread uses it (as `QueueThreads` does).
    public func slot(_ index: Int) -> UnsafeMutablePointer<Q> {
        precondition(contains(index), "queue set: queue \(index) is not in the set")
        return base + index
    }
}

/// "Has a packet arrived?" as a plain memory test another thread can make:
/// pending when `(load(address) & mask) != expected`, with a `width`-byte volatile load.
///
/// virtio: the used ring's `idx` (16 bits) differs from the index the queue has consumed up to.
/// A descriptor ring (ixgbe, igb): the next descriptor's DD bit, i.e. mask DD, expected 0; its
/// address moves on as the queue consumes the ring.
/// The memory is written by the device only, so reading it from any thread is safe.
public struct ReceiveProbe: @unchecked Sendable, Equatable {
    public let address: UnsafeRawPointer?
    public let width: Int
    public let mask: UInt32
    public let expected: UInt32

    public init(address: UnsafeRawPointer, width: Int, mask: UInt32, expected: UInt32) {
        precondition(width == 2 || width == 4, "a receive probe reads 2 or 4 bytes")
        self.address = address
        self.width = width
        self.mask = mask
        self.expected = expected
    }

    /// A probe that never reports work (a queue that is not asleep).
    public static let none = ReceiveProbe()
    private init() { address = nil; width = 0; mask = 0; expected = 0 }

    @inlinable public var isPending: Bool { isPending(expected: expected) }

    /// The test with another expected value (the waker keeps it apart, in an atomic).
    @inlinable public func isPending(expected: UInt32) -> Bool {
        guard let address else { return false }
        return isPending(at: UInt(bitPattern: address), expected: expected)
    }

    /// The test at another address too (the waker keeps both apart, in atomics: a descriptor
    /// ring's probe moves to the next descriptor with every sleep). 0: no address, not pending.
    @inlinable public func isPending(at address: UInt, expected: UInt32) -> Bool {
        guard let address = UnsafeRawPointer(bitPattern: address), width != 0 else { return false }
        let value = width == 2 ? UInt32(Volatile.load16(address)) : Volatile.load32(address)
        return value & mask != expected
    }
}

/// One `DeviceStatistics` per queue pair, each on cache lines of its own (128 bytes: the
/// adjacent-line prefetcher fetches pairs of lines), so that two queue threads counting
/// packets never write the same line.
///
/// Only the queue's owner writes its slot; the control path reads every slot with volatile
/// 64-bit loads (aligned, so never torn on x86-64) and sums them, off the hot path.
public struct QueueCounterSlots: @unchecked Sendable {
    public static let stride = 128
    @usableFromInline let base: UnsafeMutableRawPointer
    public let count: Int

    public init(count: Int) {
        precondition(MemoryLayout<DeviceStatistics>.size <= Self.stride)
        self.count = count
        base = .allocate(byteCount: Self.stride * max(count, 1), alignment: Self.stride)
        for q in 0..<max(count, 1) { (base + q * Self.stride).bindMemory(to: DeviceStatistics.self, capacity: 1).initialize(to: DeviceStatistics()) }
    }

    public func deallocate() { base.deallocate() }

    /// The slot of queue `index`, for its owner to count into.
    @inlinable public func slot(_ index: Int) -> UnsafeMutablePointer<DeviceStatistics> {
        (base + index &* Self.stride).assumingMemoryBound(to: DeviceStatistics.self)
    }

    /// A consistent-enough snapshot of queue `index`'s counters, from any thread.
    public func read(_ index: Int) -> DeviceStatistics {
        let p = UnsafeRawPointer(slot(index))
        var s = DeviceStatistics()
        s.rxPackets = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.rxPackets)!)
        s.txPackets = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.txPackets)!)
        s.rxBytes = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.rxBytes)!)
        s.txBytes = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.txBytes)!)
        s.rxDropped = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.rxDropped)!)
        s.txDropped = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.txDropped)!)
        s.rxOversize = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.rxOversize)!)
        s.txOversize = Volatile.load64(p + MemoryLayout<DeviceStatistics>.offset(of: \.txOversize)!)
        return s
    }

    /// The sum over all queues.
    public func total() -> DeviceStatistics {
        var sum = DeviceStatistics()
        for q in 0..<count { sum += read(q) }
        return sum
    }
}

extension DeviceStatistics {
    public static func += (a: inout DeviceStatistics, b: DeviceStatistics) {
        a.rxPackets &+= b.rxPackets
        a.txPackets &+= b.txPackets
        a.rxBytes &+= b.rxBytes
        a.txBytes &+= b.txBytes
        a.rxDropped &+= b.rxDropped
        a.txDropped &+= b.txDropped
        a.rxOversize &+= b.rxOversize
        a.txOversize &+= b.txOversize
    }
}
