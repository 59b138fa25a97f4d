import UIO

/// What the application does with each received batch. The loop is generic over it, so the
/// call is specialised and inlined: no closure context, no existential.
public protocol BatchHandler: ~Copyable {
    /// Handles `batch` (received on `queue`); whatever is left in it afterwards is freed.
    mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D)
    /// Called about every `tickInterval` (stats printing and timers).
    mutating func tick<D: NetworkDevice & ~Copyable>(device: inout D)
    /// Called when an interrupt reported a link change; `device.link` is the new state.
    mutating func linkChanged<D: NetworkDevice & ~Copyable>(device: inout D)
}

extension BatchHandler where Self: ~Copyable {
    public mutating func tick<D: NetworkDevice & ~Copyable>(device: inout D) {}
    public mutating func linkChanged<D: NetworkDevice & ~Copyable>(device: inout D) {}
}

/// The hybrid poll/interrupt loop for one device and all its RX queues.
public struct PacketLoop {
    public var policy: SchedulerPolicy
    public var tickInterval: Duration
    public internal(set) var statistics = SchedulerStatistics()

    public init(policy: SchedulerPolicy = .init(), tickInterval: Duration = .seconds(1)) {
        self.policy = policy
        self.tickInterval = tickInterval
    }

    /// Runs until `StopSignal.request()` (or a signal) or `until` returns true.
    public mutating func run<D: NetworkDevice & ~Copyable, H: BatchHandler & ~Copyable>(
        device: inout D, handler: inout H, until shouldStop: () -> Bool = { false }
    ) throws {
        let clock = ContinuousClock()
        let start = clock.now
        var nextTick = start + tickInterval
        var batch = PacketBatch(capacity: policy.batchSize)
        var emptyPolls = 0
        let threshold = policy.mode == .interrupt ? 1 : policy.emptyPollsBeforeSleep
        for q in 0..<device.rxQueueCount { device.disableInterrupt(queue: q) }
        defer { statistics.totalTime = clock.now - start }

        while !StopSignal.isRequested && !shouldStop() {
            var received = 0
            for q in 0..<device.rxQueueCount {
                let n = device.receive(queue: q, into: &batch)
                if n > 0 {
                    received += n
                    handler.handle(&batch, queue: q, device: &device)
                    batch.removeAll()
                }
            }
            statistics.polls &+= 1
            statistics.packets &+= UInt64(received)
            if received > 0 {
                emptyPolls = 0
            } else {
                statistics.emptyPolls &+= 1
                emptyPolls += 1
                if policy.mode != .poll && emptyPolls >= threshold {
                    if try sleep(device: &device, clock: clock) { handler.linkChanged(device: &device) }
                    emptyPolls = 0
                }
            }
            // Reading the clock costs a vDSO call: only every 64 polls while busy.
            if statistics.polls & 63 == 0 || received == 0, clock.now >= nextTick {
                handler.tick(device: &device)
                nextTick = clock.now + tickInterval
            }
        }
    }

    /// Arms the interrupts, re-checks the rings (a packet that arrived between the last poll
    /// and the arming would otherwise wait for the next one), sleeps, then disarms.
    /// Returns whether the link changed.
    mutating func sleep<D: NetworkDevice & ~Copyable>(device: inout D, clock: ContinuousClock) throws -> Bool {
        var linkChanged = false
        for q in 0..<device.rxQueueCount { device.enableInterrupt(queue: q) }
        var pending = false
        for q in 0..<device.rxQueueCount where device.hasPendingReceive(queue: q) { pending = true }
        if pending {
            statistics.lateArrivals &+= 1
        } else {
            statistics.sleeps &+= 1
            let before = clock.now
            let event = try device.waitForInterrupt(timeout: policy.sleepTimeout)
            statistics.sleepingTime += clock.now - before
            if let event {
                statistics.wakeups &+= 1
                statistics.missedInterrupts &+= UInt64(event.missed)
                let causes = try device.acknowledgeInterrupt()
                if causes.linkChanged {
                    statistics.linkChanges &+= 1
                    linkChanged = true
                }
            }
        }
        for q in 0..<device.rxQueueCount { device.disableInterrupt(queue: q) }
        return linkChanged
    }
}
