import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A process-wide stop request, set from SIGINT/SIGTERM handlers or by a call.
public enum StopSignal {
    static let requested = Atomic<Bool>(false)

    public static var isRequested: Bool { requested.load(ordering: .relaxed) }
    public static func request() { requested.store(true, ordering: .relaxed) }
    public static func reset() { requested.store(false, ordering: .relaxed) }

    /// Installs handlers for SIGINT and SIGTERM that request a stop. Without SA_RESTART, so a
    /// blocking wait on `/dev/uioN` returns EINTR at once.
    public static func installHandlers() {
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in StopSignal.requested.store(true, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }
}
