import UIO

/// Every RX and TX ring of one Intel NIC, allocated together or not at all.
///
/// A plain value of two pointers and two counts: the driver keeps it and its hot path
/// indexes the rings directly. `release` frees everything; call it once, after the device
/// has been reset (or before it was ever started), so that nothing writes to the memory.
public struct IntelQueues {
    public let rx: UnsafeMutablePointer<AdvancedRXRing>
    public let tx: UnsafeMutablePointer<AdvancedTXRing>
    public let rxCount: Int
    public let txCount: Int

    /// One mempool of `mempoolSize` buffers per RX ring; `name` goes into error messages.
    public init(rxCount: Int, txCount: Int, ringSize: Int, mempoolSize: Int,
                allocator: some DMAAllocator, name: String) throws {
        let rx = UnsafeMutablePointer<AdvancedRXRing>.allocate(capacity: rxCount)
        let tx = UnsafeMutablePointer<AdvancedTXRing>.allocate(capacity: txCount)
        var rxDone = 0, txDone = 0
        do {
            while rxDone < rxCount {
                (rx + rxDone).initialize(to: try AdvancedRXRing(size: ringSize, mempoolSize: mempoolSize, allocator: allocator, name: name))
                rxDone += 1
            }
            while txDone < txCount {
                (tx + txDone).initialize(to: try AdvancedTXRing(size: ringSize, allocator: allocator, name: name))
                txDone += 1
            }
        } catch {
            Self.release(rx: rx, rxCount: rxDone, tx: tx, txCount: txDone, allocator: allocator)
            throw error
        }
        self.rx = rx
        self.tx = tx
        self.rxCount = rxCount
        self.txCount = txCount
    }

    /// Posts a buffer in every descriptor of RX ring `queue`; throws if its mempool ran out
    /// (`name`, "igb 0000:00:04.0", goes into the message).
    public func fill(rx queue: Int, name: String) throws {
        guard rx[queue].fill() else {
            throw UIOError.device("\(name): mempool of RX queue \(queue) ran out while filling the ring")
        }
    }

    /// Frames dropped by the driver because they spanned more than one RX descriptor.
    public var droppedFragments: UInt64 {
        (0..<rxCount).reduce(0) { $0 &+ rx[$1].droppedFragments }
    }

    /// Returns every buffer to its pool and frees rings, pools and the ring arrays.
    public func release(allocator: some DMAAllocator) {
        Self.release(rx: rx, rxCount: rxCount, tx: tx, txCount: txCount, allocator: allocator)
    }

    private static func release(rx: UnsafeMutablePointer<AdvancedRXRing>, rxCount: Int,
                                tx: UnsafeMutablePointer<AdvancedTXRing>, txCount: Int, allocator: some DMAAllocator) {
        // TX first: buffers still in a TX ring belong to RX rings' pools, which can only be
        // destroyed once every buffer is back.
        for q in 0..<txCount { tx[q].destroy(allocator: allocator) }
        for q in 0..<rxCount { rx[q].destroy(allocator: allocator) }
        rx.deinitialize(count: rxCount)
        tx.deinitialize(count: txCount)
        rx.deallocate()
        tx.deallocate()
    }
}

extension IntelQueues {
    /// Frames the TX rings refused for a length beyond their buffer (`DeviceStatistics.txOversize`).
    /// Read with volatile loads: a detached ring's owner may be counting on another thread.
    public var oversizeRefused: UInt64 {
        let offset = MemoryLayout<AdvancedTXRing>.offset(of: \.oversizeRefused)!
        var sum: UInt64 = 0
        for q in 0..<txCount { sum &+= Volatile.load64(UnsafeRawPointer(tx + q) + offset) }
        return sum
    }
}
