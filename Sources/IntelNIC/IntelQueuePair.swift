import UIO

/// How one queue's receive interrupt is armed and masked on an Intel NIC: write `bits` to
/// `clearCause` (write 1 to clear a stale cause; skipped if nil), then to `unmask`; `mask`
/// masks it again (nothing if nil).
///
/// ixgbe: EICR, EIMS and EIMC with the queue's own cause bit (IVAR maps RX queue q to bit
/// q mod 16), so queues arm and mask independently. igb in INTx mode has one cause for every
/// queue (ICR.RXDW): a queue that masked it would silence the others while they sleep, so
/// there a queue only unmasks, never clears or masks (a cause raised while queues poll costs
/// one interrupt, throttled by EITR, which the interrupt thread acknowledges).
public struct IntelQueueInterrupt: Sendable {
    public let clearCause: Int?
    public let unmask: Int
    public let mask: Int?
    public let bits: UInt32

    public init(clearCause: Int?, unmask: Int, mask: Int?, bits: UInt32) {
        self.clearCause = clearCause
        self.unmask = unmask
        self.mask = mask
        self.bits = bits
    }

    /// Clears a stale cause (frames taken while polling left it set; unmasked as it is, it
    /// would end the next sleep at once), then unmasks it. A frame that arrives in between is
    /// not lost: the caller checks the ring after arming, before it sleeps.
    public func arm<R: RegisterAccess>(_ registers: R) {
        if let clearCause { registers.write32(clearCause, bits) }
        registers.write32(unmask, bits)
    }

    /// Masks the cause again (while polling), where the queue has a mask of its own.
    public func disarm<R: RegisterAccess>(_ registers: R) {
        if let mask { registers.write32(mask, bits) }
    }
}

/// Queue pair `index` of an Intel NIC (ixgbe, igb), detached from its device for one thread
/// to own (`MultiQueueDevice.withDetachedQueues`): RX ring q and TX ring q of the device's
/// `IntelQueues`, the tail registers RDT(q) and TDT(q), and counter slot q.
///
/// `Sendable` by construction (it holds raw ring pointers): the rings, RX ring q's mempool and
/// the counter slot are this pair's alone, and being `~Copyable` there is no second handle.
/// The registers it writes are this queue's tails, and interrupt registers whose bits are
/// written 1-to-act, so that writes from different queue threads never undo each other.
public struct IntelQueuePair<R: RegisterAccess>: ~Copyable, QueuePair, @unchecked Sendable {
    @usableFromInline let rx: UnsafeMutablePointer<AdvancedRXRing>
    @usableFromInline let tx: UnsafeMutablePointer<AdvancedTXRing>
    @usableFromInline let registers: R
    @usableFromInline let rxTail: Int
    @usableFromInline let txTail: Int
    @usableFromInline let interrupt: IntelQueueInterrupt
    @usableFromInline let counters: UnsafeMutablePointer<DeviceStatistics>
    public let index: Int

    /// For the drivers: `rx` and `tx` are ring `index` of the device's `IntelQueues`.
    public init(index: Int, rx: UnsafeMutablePointer<AdvancedRXRing>, tx: UnsafeMutablePointer<AdvancedTXRing>,
                registers: R, rxTail: Int, txTail: Int, interrupt: IntelQueueInterrupt,
                counters: UnsafeMutablePointer<DeviceStatistics>) {
        self.index = index
        self.rx = rx
        self.tx = tx
        self.registers = registers
        self.rxTail = rxTail
        self.txTail = txTail
        self.interrupt = interrupt
        self.counters = counters
    }

    /// The shared descriptor core, then this pair's counters (the device's hardware counters
    /// are per port; these say what each queue carried).
    @inlinable
    public mutating func receive(into batch: inout PacketBatch) -> Int {
        let start = batch.count
        let received = AdvancedRXRing.receive(rx, into: &batch, registers: registers, tail: rxTail)
        if received > 0 {
            var bytes = 0
            for i in start..<(start &+ received) { bytes &+= Int(truncatingIfNeeded: batch.unsafeHeader(at: i).pointee.length) }
            counters.pointee.rxPackets &+= UInt64(received)
            counters.pointee.rxBytes &+= UInt64(bytes)
        }
        return received
    }

    @inlinable
    public mutating func transmit(from batch: inout PacketBatch) -> Int {
        var bytes = 0, oversize: UInt64 = 0
        let taken = tx.pointee.transmit(from: &batch, registers: registers, tail: txTail, bytes: &bytes, oversize: &oversize)
        if taken > 0 {
            counters.pointee.txPackets &+= UInt64(taken) &- oversize
            counters.pointee.txBytes &+= UInt64(bytes)
            counters.pointee.txOversize &+= oversize
        }
        return taken
    }

    @inlinable public func hasPendingReceive() -> Bool { rx.pointee.hasPending }

    public mutating func enableInterrupt() { interrupt.arm(registers) }

    public mutating func disableInterrupt() { interrupt.disarm(registers) }

    public func receiveProbe() -> ReceiveProbe { rx.pointee.receiveProbe }
    public var statistics: DeviceStatistics { counters.pointee }
    public var bufferPoolAvailable: Int { rx.pointee.mempool.available }
    /// This pair's pool (RX ring q's), for the application's own TX buffers (pktgen).
    public var mempool: Mempool { rx.pointee.mempool }
}
