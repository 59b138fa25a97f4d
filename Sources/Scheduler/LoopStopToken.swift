import Synchronization

/// A stop request for one loop, which its handler or any other thread can trip.
///
/// `StopSignal` stops every loop in the process (SIGINT/SIGTERM); a token stops only the loop
/// it was given to, so parallel tests and several loops in one process do not interfere. The
/// loop reads it once per poll (one relaxed load, no reference counting: the loop holds it in
/// a local for the whole run).
public final class LoopStopToken: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Whether `trip()` was called (and not `reset()` since).
    @inline(__always) public var isTripped: Bool { flag.load(ordering: .relaxed) }

    /// Asks the loop to return: `PacketLoop` after its next empty poll or sleep (within
    /// `sleepTimeout`; within 64 polls under a load that fills every poll), the queue loop
    /// before its next poll.
    public func trip() { flag.store(true, ordering: .relaxed) }

    /// Makes the token usable for another run.
    public func reset() { flag.store(false, ordering: .relaxed) }
}
