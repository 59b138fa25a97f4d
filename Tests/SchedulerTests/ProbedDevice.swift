import UIO

/// What `PacketLoop` did to a device, in order, and what the test's "wire" does at chosen
/// points of that sequence.
///
/// The hooks run on the loop's own thread, synchronously, just before the call they are
/// attached to reaches the driver. That makes the windows the scheduler must get right
/// (between the last empty poll and the arming, between the arming and the sleep) places a
/// test can put a frame into deterministically, with no second thread and no timing luck.
final class Probe {
    enum Event: Equatable, CustomStringConvertible {
        /// One `receive` call and how many frames it returned.
        case poll(received: Int)
        /// `enableInterrupt` / `disableInterrupt` (queue 0: the NICs here have one RX queue).
        case arm, disarm
        /// `hasPendingReceive`, the re-check after arming, and its answer.
        case recheck(pending: Bool)
        /// `waitForInterrupt` returned: woken by an interrupt, or timed out.
        case wait(woken: Bool)
        case acknowledge(InterruptCauses)
        /// `BatchHandler.handle` with this many frames.
        case handled(frames: Int)
        /// `BatchHandler.linkChanged`, with `device.link` as the handler saw it.
        case linkChanged(isUp: Bool)

        var description: String {
            switch self {
            case .poll(let n): return "poll(\(n))"
            case .arm: return "arm"
            case .disarm: return "disarm"
            case .recheck(let p): return "recheck(\(p ? "pending" : "empty"))"
            case .wait(let woken): return woken ? "wait(woken)" : "wait(timeout)"
            case .acknowledge(let c): return "ack(queues: \(c.queues), link: \(c.linkChanged))"
            case .handled(let n): return "handled(\(n))"
            case .linkChanged(let up): return "linkChanged(\(up ? "up" : "down"))"
            }
        }
    }

    private(set) var events: [Event] = []
    /// Run before the n-th `receive` (1-based) reaches the driver.
    var beforePoll: [Int: () -> Void] = [:]
    /// Run before the n-th `enableInterrupt` reaches the driver: the window between the last
    /// empty poll and the arming.
    var beforeArm: [Int: () -> Void] = [:]
    /// Run before the n-th `waitForInterrupt` reaches the driver: the device is armed.
    var beforeWait: [Int: () -> Void] = [:]

    private(set) var polls = 0
    private(set) var arms = 0
    private(set) var waits = 0
    private(set) var handledFrames = 0
    /// Added to the `missed` count of the next interrupt event (as if the UIO count had jumped).
    var missedOnNextInterrupt: UInt32 = 0
    /// How long each `waitForInterrupt` blocked.
    private(set) var waitTimes: [Duration] = []
    var linkChanges: [Bool] {
        events.compactMap { if case .linkChanged(let up) = $0 { return up } else { return nil } }
    }

    func record(_ event: Event) {
        if case .handled(let n) = event { handledFrames += n }
        events.append(event)
    }

    func willPoll() { polls += 1; beforePoll[polls]?() }
    func willArm() { arms += 1; beforeArm[arms]?() }
    func willWait() { waits += 1; beforeWait[waits]?() }
    func waited(_ time: Duration, woken: Bool) {
        waitTimes.append(time)
        record(.wait(woken: woken))
    }

    /// The events up to (not including) the first one that matches.
    func events(before match: (Event) -> Bool) -> [Event] {
        Array(events.prefix { !match($0) })
    }

    /// `received` of each poll, in order, up to the first arming.
    var pollsBeforeFirstArm: [Int] {
        events(before: { $0 == .arm }).compactMap { if case .poll(let n) = $0 { return n } else { return nil } }
    }

    var trace: String { events.map(\.description).joined(separator: " ") }
}

/// A driver with a `Probe` between it and the scheduler: every call is passed on unchanged,
/// recorded, and preceded by the probe's hook for it. Test-only, so the log is an Array.
struct ProbedDevice<Inner: NetworkDevice & ~Copyable>: ~Copyable, NetworkDevice {
    var inner: Inner
    let probe: Probe

    var driverName: String { inner.driverName }
    var rxQueueCount: Int { inner.rxQueueCount }
    var txQueueCount: Int { inner.txQueueCount }
    var macAddress: MACAddress { inner.macAddress }
    var link: LinkStatus { inner.link }
    var bufferPoolAvailable: Int? { inner.bufferPoolAvailable }

    mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        probe.willPoll()
        let n = inner.receive(queue: queue, into: &batch)
        probe.record(.poll(received: n))
        return n
    }

    mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        inner.transmit(queue: queue, from: &batch)
    }

    func hasPendingReceive(queue: Int) -> Bool {
        let pending = inner.hasPendingReceive(queue: queue)
        probe.record(.recheck(pending: pending))
        return pending
    }

    mutating func enableInterrupt(queue: Int) {
        probe.willArm()
        inner.enableInterrupt(queue: queue)
        probe.record(.arm)
    }

    mutating func disableInterrupt(queue: Int) {
        inner.disableInterrupt(queue: queue)
        probe.record(.disarm)
    }

    mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        probe.willWait()
        let clock = ContinuousClock()
        let start = clock.now
        var event = try inner.waitForInterrupt(timeout: timeout)
        probe.waited(clock.now - start, woken: event != nil)
        if let seen = event, probe.missedOnNextInterrupt > 0 {
            event = InterruptEvent(count: seen.count + probe.missedOnNextInterrupt, missed: seen.missed + probe.missedOnNextInterrupt)
            probe.missedOnNextInterrupt = 0
        }
        return event
    }

    mutating func acknowledgeInterrupt() throws -> InterruptCauses {
        let causes = try inner.acknowledgeInterrupt()
        probe.record(.acknowledge(causes))
        return causes
    }

    mutating func statistics() -> DeviceStatistics { inner.statistics() }
    mutating func setPromiscuous(_ enabled: Bool) throws { try inner.setPromiscuous(enabled) }
    mutating func shutdown() { inner.shutdown() }
}
