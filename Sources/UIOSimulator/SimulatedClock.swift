import Synchronization

/// The time a device model sees: the system's monotonic clock, or a manual one that only
/// moves when a test calls `advance(by:)`, so timing behaviour (link-up delays, interrupt
/// throttling) can be tested without sleeping.
public final class SimulatedClock: Sendable {
    private enum Source {
        case system(ContinuousClock.Instant)
        case manual
    }

    private let source: Source
    private let manualNow = Mutex<Duration>(.zero)

    private init(_ source: Source) { self.source = source }

    /// Time since the clock was made, from `ContinuousClock`.
    public static func system() -> SimulatedClock { SimulatedClock(.system(ContinuousClock.now)) }
    /// Starts at zero and moves only by `advance(by:)`.
    public static func manual() -> SimulatedClock { SimulatedClock(.manual) }

    public var now: Duration {
        switch source {
        case .system(let start): return ContinuousClock.now - start
        case .manual: return manualNow.withLock { $0 }
        }
    }

    public var isManual: Bool {
        if case .manual = source { return true }
        return false
    }

    /// Moves a manual clock forward. A system clock cannot be moved: that is a test bug.
    public func advance(by duration: Duration) {
        precondition(isManual, "SimulatedClock.advance(by:) needs a manual clock; make it with SimulatedClock.manual()")
        manualNow.withLock { $0 += duration }
    }
}
