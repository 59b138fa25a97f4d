/// When the loop polls and when it sleeps on the interrupt line.
///
/// The hybrid rule follows Linux NAPI and DPDK's l3fwd-power: poll in batches while packets
/// flow; after `emptyPollsBeforeSleep` consecutive empty polls, arm the interrupt, re-check the
/// ring, and sleep. Any packet resets the count, so under load the loop never sleeps.
public struct SchedulerPolicy: Sendable {
    /// How the loop waits for packets (`--mode` of the examples).
    public enum Mode: String, Sendable, CaseIterable {
        /// Busy-poll forever: lowest latency, one full core.
        case poll
        /// Sleep whenever a poll comes back empty.
        case interrupt
        /// Poll while busy, sleep when idle.
        case hybrid
    }

    public var mode: Mode
    /// Consecutive empty polls before sleeping in hybrid mode (l3fwd-power sleeps after 300).
    public var emptyPollsBeforeSleep: Int
    /// Longest single sleep, so that timers and a stop request are still seen.
    public var sleepTimeout: Duration
    /// Packets per receive call.
    public var batchSize: Int

    public init(mode: Mode = .hybrid, emptyPollsBeforeSleep: Int = 300, sleepTimeout: Duration = .milliseconds(100), batchSize: Int = 32) {
        self.mode = mode
        self.emptyPollsBeforeSleep = emptyPollsBeforeSleep
        self.sleepTimeout = sleepTimeout
        self.batchSize = batchSize
    }

    /// The policy itself, once `validate()` passed: for building a checked policy in one
    /// expression.
    ///
    /// - Throws: `SchedulerPolicyError` naming the first field that breaks its rule.
    public func validated() throws(SchedulerPolicyError) -> SchedulerPolicy {
        try validate()
        return self
    }

    /// Checks every field against its rule; the loops call it before they start.
    ///
    /// - Throws: `SchedulerPolicyError` naming the first field that breaks its rule.
    public func validate() throws(SchedulerPolicyError) {
        if batchSize < 1 {
            throw SchedulerPolicyError(field: "batchSize", rule: "at least 1 (packets per receive call)", value: "\(batchSize)")
        }
        if emptyPollsBeforeSleep < 1 {
            throw SchedulerPolicyError(field: "emptyPollsBeforeSleep", rule: "at least 1 (use mode .poll to never sleep)",
                                       value: "\(emptyPollsBeforeSleep)")
        }
        if sleepTimeout < .zero {
            throw SchedulerPolicyError(field: "sleepTimeout", rule: "not negative", value: "\(sleepTimeout)")
        }
    }
}

/// A `SchedulerPolicy` field that breaks its rule.
public struct SchedulerPolicyError: Error, Equatable, CustomStringConvertible {
    /// The field's name, as in `SchedulerPolicy`.
    public let field: String
    /// What the field must be.
    public let rule: String
    /// The value it had.
    public let value: String

    /// A broken rule: `field` must be `rule` and is `value`.
    public init(field: String, rule: String, value: String) {
        self.field = field
        self.rule = rule
        self.value = value
    }

    public var description: String { "SchedulerPolicy.\(field) must be \(rule); it is \(value)" }
}

/// What the loop did, for tuning and for the benchmarks.
public struct SchedulerStatistics: Sendable {
    public var polls: UInt64 = 0
    public var emptyPolls: UInt64 = 0
    public var packets: UInt64 = 0
    public var sleeps: UInt64 = 0
    /// Sleeps that ended with an interrupt (the rest timed out).
    public var wakeups: UInt64 = 0
    /// Sleeps avoided because the re-check after arming found a packet.
    public var lateArrivals: UInt64 = 0
    public var missedInterrupts: UInt64 = 0
    public var linkChanges: UInt64 = 0
    public var sleepingTime: Duration = .zero
    public var totalTime: Duration = .zero

    public init() {}

    public var summary: String {
        let sleepShare = totalTime > .zero ? sleepingTime / totalTime * 100 : 0
        return "polls=\(polls) empty=\(emptyPolls) sleeps=\(sleeps) wakeups=\(wakeups) late=\(lateArrivals) missed-irq=\(missedInterrupts) sleeping=\(sleepShare.decimalText(1))%"
    }
}

