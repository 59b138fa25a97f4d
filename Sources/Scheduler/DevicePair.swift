import Glibc
import UIO

/// Two NICs as one `NetworkDevice`, so that one `PacketLoop` serves both (a forwarder) and,
/// in hybrid or interrupt mode, sleeps until either has work.
///
/// Queues are numbered A's first: RX queues `0 ..< a.rxQueueCount` are A's and the rest B's,
/// and the same for TX. A sleep arms both devices and waits on both with one poll(2) over
/// their `interruptDescriptors`.
///
/// Holds pointers to the two devices, which `withDevicePair` lends it for one scope: it owns
/// neither (`shutdown()` shuts both down, as their owner's would). A handler that needs one
/// device, to transmit on the other NIC, uses `first` and `second`.
public struct DevicePair<A: NetworkDevice & ~Copyable, B: NetworkDevice & ~Copyable>: ~Copyable, NetworkDevice {
    @usableFromInline let a: UnsafeMutablePointer<A>
    @usableFromInline let b: UnsafeMutablePointer<B>
    /// The devices, valid inside `withDevicePair`'s body only.
    public var first: UnsafeMutablePointer<A> { a }
    public var second: UnsafeMutablePointer<B> { b }
    @usableFromInline let aRXQueues: Int
    @usableFromInline let aTXQueues: Int
    /// Which devices the last wait took an interrupt from: `acknowledgeInterrupt` asks those.
    var woke = (a: false, b: false)
    /// Interrupts the pair's waits took from each device (the first, the second).
    public private(set) var firstInterrupts: UInt64 = 0
    public private(set) var secondInterrupts: UInt64 = 0

    init(_ a: UnsafeMutablePointer<A>, _ b: UnsafeMutablePointer<B>) {
        self.a = a
        self.b = b
        aRXQueues = a.pointee.rxQueueCount
        aTXQueues = a.pointee.txQueueCount
    }

    public var driverName: String { "\(a.pointee.driverName)+\(b.pointee.driverName)" }
    public var rxQueueCount: Int { aRXQueues + b.pointee.rxQueueCount }
    public var txQueueCount: Int { aTXQueues + b.pointee.txQueueCount }
    /// A's address: the pair has none of its own.
    public var macAddress: MACAddress { a.pointee.macAddress }

    @inlinable public mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        queue < aRXQueues ? a.pointee.receive(queue: queue, into: &batch) : b.pointee.receive(queue: queue - aRXQueues, into: &batch)
    }

    @inlinable public mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        queue < aTXQueues ? a.pointee.transmit(queue: queue, from: &batch) : b.pointee.transmit(queue: queue - aTXQueues, from: &batch)
    }

    @inlinable public func hasPendingReceive(queue: Int) -> Bool {
        queue < aRXQueues ? a.pointee.hasPendingReceive(queue: queue) : b.pointee.hasPendingReceive(queue: queue - aRXQueues)
    }

    public mutating func enableInterrupt(queue: Int) {
        if queue < aRXQueues { a.pointee.enableInterrupt(queue: queue) } else { b.pointee.enableInterrupt(queue: queue - aRXQueues) }
    }

    public mutating func disableInterrupt(queue: Int) {
        if queue < aRXQueues { a.pointee.disableInterrupt(queue: queue) } else { b.pointee.disableInterrupt(queue: queue - aRXQueues) }
    }

    public var interruptDescriptors: [Int32] { a.pointee.interruptDescriptors + b.pointee.interruptDescriptors }

    /// Waits for either device's interrupt with one poll(2), then takes the event from each
    /// device that has one. The event's count and missed count are the two devices' sums.
    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        let first = a.pointee.interruptDescriptors, second = b.pointee.interruptDescriptors
        guard !first.isEmpty, !second.isEmpty else {
            let which = first.isEmpty ? a.pointee.driverName : b.pointee.driverName
            throw UIOError.device("\(which) offers no interrupt descriptor to wait on beside the other NIC's: run the loop in poll mode")
        }
        var fds = (first + second).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ms = timeout.pollMilliseconds
        let ready = poll(&fds, nfds_t(fds.count), ms)
        if ready < 0 {
            if errno == EINTR { return nil }
            throw UIOError.fromErrno("poll", path: "the interrupts of \(driverName)")
        }
        if ready == 0 { return nil }
        let readable = fds.map { $0.revents & Int16(POLLIN) != 0 }
        let eventA = readable[..<first.count].contains(true) ? try a.pointee.waitForInterrupt(timeout: .zero) : nil
        let eventB = readable[first.count...].contains(true) ? try b.pointee.waitForInterrupt(timeout: .zero) : nil
        woke = (eventA != nil, eventB != nil)
        if woke.a { firstInterrupts &+= 1 }
        if woke.b { secondInterrupts &+= 1 }
        if eventA == nil && eventB == nil { return nil }
        return InterruptEvent(count: (eventA?.count ?? 0) &+ (eventB?.count ?? 0),
                              missed: (eventA?.missed ?? 0) &+ (eventB?.missed ?? 0))
    }

    /// Acknowledges the devices the last wait took an interrupt from; B's queue bits follow A's.
    public mutating func acknowledgeInterrupt() throws -> InterruptCauses {
        var causes = InterruptCauses()
        if woke.a {
            let c = try a.pointee.acknowledgeInterrupt()
            causes.queues |= aRXQueues >= 64 ? c.queues : c.queues & ((1 << UInt64(aRXQueues)) - 1)
            causes.linkChanged = c.linkChanged
        }
        if woke.b {
            let c = try b.pointee.acknowledgeInterrupt()
            if aRXQueues < 64 { causes.queues |= c.queues << UInt64(aRXQueues) }
            causes.linkChanged = causes.linkChanged || c.linkChanged
        }
        woke = (false, false)
        return causes
    }

    /// Up only while both links are.
    public var link: LinkStatus {
        let la = a.pointee.link, lb = b.pointee.link
        return LinkStatus(isUp: la.isUp && lb.isUp, speedMbps: min(la.speedMbps, lb.speedMbps))
    }

    public mutating func statistics() -> DeviceStatistics {
        var total = a.pointee.statistics()
        total += b.pointee.statistics()
        return total
    }

    public mutating func setPromiscuous(_ enabled: Bool) throws {
        try a.pointee.setPromiscuous(enabled)
        try b.pointee.setPromiscuous(enabled)
    }

    /// Shuts both devices down (their owner's `deinit` would also).
    public mutating func shutdown() {
        a.pointee.shutdown()
        b.pointee.shutdown()
    }

    public var bufferPoolAvailable: Int? {
        guard let x = a.pointee.bufferPoolAvailable, let y = b.pointee.bufferPoolAvailable else { return nil }
        return x + y
    }
}

/// Runs `body` with `a` and `b` seen as one `DevicePair`, valid for the call only.
public func withDevicePair<A: NetworkDevice & ~Copyable, B: NetworkDevice & ~Copyable, R>(
    _ a: inout A, _ b: inout B, _ body: (inout DevicePair<A, B>) throws -> R
) rethrows -> R {
    try withUnsafeMutablePointer(to: &a) { pa in
        try withUnsafeMutablePointer(to: &b) { pb in
            var pair = DevicePair(pa, pb)
            return try body(&pair)
        }
    }
}
