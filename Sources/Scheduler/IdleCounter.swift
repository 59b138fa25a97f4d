/// The hybrid rule's count of consecutive empty polls: one copy for every loop (a device, a
/// device pair, a queue thread), so that they cannot drift apart again.
struct IdleCounter {
    /// Empty polls before a sleep: 1 in interrupt mode.
    let threshold: Int
    /// False in poll mode: the loop never sleeps.
    let sleeps: Bool
    var emptyPolls = 0

    init(policy: SchedulerPolicy) {
        threshold = policy.mode == .interrupt ? 1 : policy.emptyPollsBeforeSleep
        sleeps = policy.mode != .poll
    }

    /// Counts one poll that received `received` frames into `statistics`. Returns whether the
    /// loop should sleep now.
    @inline(__always) mutating func polled(received: Int, statistics: inout SchedulerStatistics) -> Bool {
        statistics.polls &+= 1
        statistics.packets &+= UInt64(received)
        if received > 0 {
            self.received()
            return false
        }
        statistics.emptyPolls &+= 1
        return emptyPoll()
    }

    /// A poll received frames: the count starts again.
    @inline(__always) mutating func received() { emptyPolls = 0 }

    /// A poll came back empty. Returns whether the loop should sleep now.
    @inline(__always) mutating func emptyPoll() -> Bool {
        emptyPolls += 1
        return sleeps && emptyPolls >= threshold
    }

    /// After a sleep (or a sleep skipped because the re-check found a frame).
    ///
    /// A sleep that timed out is not a wake-up: nothing arrived for the whole timeout, so one
    /// more empty poll (for a frame that raced the timeout) and back to sleep, as if the sleep
    /// had gone on (l3fwd-power sleeps without a timeout; ours exists only for ticks and stop
    /// requests). Only an interrupt or a frame restarts the count. Counting to 300 again after
    /// every timeout cost an idle echo-server 2.4 % of a core in the VM test (QEMU TCG); the
    /// queue threads' loop did so until both loops shared this rule.
    @inline(__always) mutating func slept(timedOut: Bool) {
        emptyPolls = timedOut ? threshold - 1 : 0
    }
}
