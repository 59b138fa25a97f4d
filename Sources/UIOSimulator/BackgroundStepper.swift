import Foundation
import Synchronization

/// A thread that calls a model's `step()` until stopped: the device "running on its own",
/// for tests of interrupt-driven drivers and schedulers. Bounded by `stop()`, which joins.
final class BackgroundStepper: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let idleMicroseconds: UInt32
    private let step: @Sendable () -> Bool

    init(idleSleep: Duration, step: @escaping @Sendable () -> Bool) {
        idleMicroseconds = max(1, UInt32(clamping: idleSleep.components.seconds * 1_000_000 + idleSleep.components.attoseconds / 1_000_000_000_000))
        self.step = step
        let thread = Thread { [self] in run() }
        thread.name = "UIOSimulator model"
        thread.start()
    }

    private func run() {
        while !stopRequested.load(ordering: .acquiring) {
            if !step() { usleep(idleMicroseconds) }
        }
        finished.signal()
    }

    /// Asks the thread to stop and waits until it has. Later calls return at once.
    func stop() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }
}
