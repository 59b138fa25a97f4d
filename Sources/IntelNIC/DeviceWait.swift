#if canImport(Glibc)
import Glibc
#endif

/// Bounded waits on bits that an Intel NIC sets or clears by itself (reset done, queue
/// enabled, link up). Only used during set-up and shutdown, never on the hot path.
public enum DeviceWait {
    /// Polls `condition` every `interval` until it holds (true) or `timeout` passes (false).
    public static func until(timeout: Duration, interval: Duration = .milliseconds(1), _ condition: () -> Bool) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if condition() { return true }
            if clock.now >= deadline { return condition() }
            sleep(interval)
        }
    }

    public static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let microseconds = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        usleep(UInt32(clamping: microseconds))
    }
}
