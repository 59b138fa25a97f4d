import Logging
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
    /// Where the loop reports link changes and interrupt anomalies (never per packet). The
    /// driver's name is added as metadata; give it the PCI address (`Logger.forDevice`).
    public var logger: Logger
    /// Updated at every tick, before the handler's `tick`, and once more when the loop stops.
    public var metrics: DeviceMetrics?

    /// This loop's own stop request: trip it from the handler (keep a reference to it) or from
    /// another thread, and `run` returns after the next empty poll or sleep (under a load that
    /// fills every poll, within 64 polls).
    public let stopToken: LoopStopToken

    public init(policy: SchedulerPolicy = .init(), tickInterval: Duration = .seconds(1), logger: Logger = .silent,
                metrics: DeviceMetrics? = nil, stopToken: LoopStopToken = LoopStopToken()) {
        self.policy = policy
        self.tickInterval = tickInterval
        self.logger = logger
        self.metrics = metrics
        self.stopToken = stopToken
    }

    /// Runs until `stopToken` is tripped, `StopSignal.request()` (or SIGINT/SIGTERM once
    /// `StopSignal.installHandlers()` ran), or `until` returns true.
    ///
    /// - Returns: the loop's statistics (also in `statistics`).
    /// - Throws: `SchedulerPolicyError` before starting if `policy` breaks a rule; the device's
    ///   errors from waiting on or acknowledging its interrupt.
    @discardableResult
    public mutating func run<D: NetworkDevice & ~Copyable, H: BatchHandler & ~Copyable>(
        device: inout D, handler: inout H, until shouldStop: () -> Bool = { false }
    ) throws -> SchedulerStatistics {
        try policy.validate()
        var ticks = TickSchedule(interval: tickInterval)
        var batch = PacketBatch(capacity: policy.batchSize)
        var idle = IdleCounter(policy: policy)
        let stopToken = stopToken
        for q in 0..<device.rxQueueCount { device.disableInterrupt(queue: q) }
        logger = logger.forDevice(address: nil, driver: device.driverName)
        logger.debug("packet loop started", metadata: [
            "mode": "\(policy.mode.rawValue)", "batch": "\(policy.batchSize)", "rx-queues": "\(device.rxQueueCount)"])
        // On a throw as on the normal way out, which returns the figures as recorded here.
        var stopped = false
        defer { if !stopped { recordStop(device: &device, totalTime: ticks.elapsed) } }

        // `until` is checked before every poll; the stop token and the process-wide StopSignal
        // with the clock below (after every empty poll, every 64th while busy: a stop is seen
        // within microseconds either way), which keeps the busy loop's per-poll checks at one.
        while !shouldStop() {
            var received = 0
            for q in 0..<device.rxQueueCount {
                let n = device.receive(queue: q, into: &batch)
                if n > 0 {
                    received += n
                    handler.handle(&batch, queue: q, device: &device)
                    batch.removeAll()
                }
            }
            if idle.polled(received: received, statistics: &statistics) {
                let outcome = try sleep(device: &device, clock: ticks.clock)
                if outcome.linkChanged { handler.linkChanged(device: &device) }
                idle.slept(timedOut: outcome.timedOut)
            }
            // Reading the clock costs a vDSO call: only every 64 polls while busy.
            if statistics.polls & 63 == 0 || received == 0 {
                if stopToken.isTripped || StopSignal.isRequested { break }
                guard ticks.isDue else { continue }
                // A loop that does not sleep (poll mode, or hybrid under steady load) takes no
                // interrupt, so a link change would go unseen: once a tick, take one that is
                // already pending, without blocking (poll(2) with timeout 0 on /dev/uioN).
                if try takePendingInterrupt(device: &device) { handler.linkChanged(device: &device) }
                metrics?.record(device: &device, loop: statistics)
                handler.tick(device: &device)
                ticks.ticked()
            }
        }
        recordStop(device: &device, totalTime: ticks.elapsed)
        stopped = true
        return statistics
    }

    /// The figures of a run that ended: its total time, the metrics' last record, the log line.
    mutating func recordStop<D: NetworkDevice & ~Copyable>(device: inout D, totalTime: Duration) {
        statistics.totalTime = totalTime
        metrics?.record(device: &device, loop: statistics)
        logger.debug("packet loop stopped", metadata: ["statistics": "\(statistics.summary)"])
    }

    /// How a `sleep` ended.
    struct SleepOutcome {
        /// The sleep ran to its timeout with no interrupt (not when it was skipped).
        var timedOut = false
        var linkChanged = false
    }

    /// Takes an interrupt that is already pending, if any, without blocking: acknowledges it
    /// (which re-arms the line). Returns whether the link changed.
    mutating func takePendingInterrupt<D: NetworkDevice & ~Copyable>(device: inout D) throws -> Bool {
        guard let event = try device.waitForInterrupt(timeout: .zero) else { return false }
        noteMissed(event)
        let causes = try device.acknowledgeInterrupt()
        guard causes.linkChanged else { return false }
        noteLinkChange(device.link)
        return true
    }

    /// Arms the interrupts, re-checks the rings (a packet that arrived between the last poll
    /// and the arming would otherwise wait for the next one), sleeps, then disarms.
    mutating func sleep<D: NetworkDevice & ~Copyable>(device: inout D, clock: ContinuousClock) throws -> SleepOutcome {
        var outcome = SleepOutcome()
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
                noteMissed(event)
                let causes = try device.acknowledgeInterrupt()
                if causes.linkChanged {
                    noteLinkChange(device.link)
                    outcome.linkChanged = true
                }
            } else {
                outcome.timedOut = true
            }
        }
        for q in 0..<device.rxQueueCount { device.disableInterrupt(queue: q) }
        return outcome
    }

    /// Interrupts that came and went unseen (the UIO count jumped by more than one): the loop
    /// slept through them, or the line fired while it was polling with interrupts disarmed.
    mutating func noteMissed(_ event: InterruptEvent) {
        guard event.missed > 0 else { return }
        statistics.missedInterrupts &+= UInt64(event.missed)
        logger.warning("missed interrupts", metadata: [
            "missed": "\(event.missed)", "interrupt-count": "\(event.count)", "missed-total": "\(statistics.missedInterrupts)"])
    }

    mutating func noteLinkChange(_ link: LinkStatus) {
        statistics.linkChanges &+= 1
        logger.notice("link \(link)", metadata: ["link": "\(link.isUp ? "up" : "down")", "speed-mbps": "\(link.speedMbps)"])
    }
}
