/// When a loop's next tick is due: the hook where the handler's `tick` runs (statistics,
/// metrics, and the timers of a protocol stack on this loop), at most once per `interval`.
struct TickSchedule {
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    let interval: Duration
    var next: ContinuousClock.Instant

    init(interval: Duration) {
        start = clock.now
        self.interval = interval
        next = start + interval
    }

    /// Time since the loop started.
    var elapsed: Duration { clock.now - start }

    /// Whether the tick is due. Reads the clock (a vDSO call): the loops ask only after an
    /// empty poll or every 64th busy one.
    @inline(__always) var isDue: Bool { clock.now >= next }

    /// The tick ran: the next is due one `interval` from now.
    mutating func ticked() { next = clock.now + interval }
}
