import Logging
import Synchronization
import UIO
#if canImport(Glibc)
import Glibc
#endif

/// A second device's control path, for queue threads that serve two devices.
///
/// `QueueThreads.run` serves one device's interrupt line on the calling thread. The
/// multi-queue forwarder's thread q polls queue q of NIC A and of NIC B, and sleeps on both
/// (`QueueWaker.sleep(_:on:_:on:timeout:)`): NIC B's line is served by `QueueThreads.run`,
/// NIC A's by an `InterruptServer` on a thread of its own, which waits on A's line,
/// acknowledges the cause and wakes A's sleeping queues through A's waker.
public struct InterruptServer: Sendable {
    final class State: Sendable {
        let stop = Atomic<Bool>(false)
        let failure: Mutex<String?> = Mutex(nil)
        let control: Mutex<QueueThreads.ControlStatistics> = Mutex(.init())
    }

    let state: State

    /// Whether the server stopped on an error (the run should end: A's queues would no longer
    /// be woken). Pass `{ server.hasFailed }` as `QueueThreads.run`'s `until`.
    public var hasFailed: Bool { state.failure.withLock { $0 != nil } }

    /// Serves `device`'s interrupt line on a new thread while `body` runs on this one; stops and
    /// joins that thread before returning. `body` must not use `device`'s interrupt line
    /// itself. Every `tickInterval` (and once at the stop), on that thread, `metrics` records
    /// the device's queues, link and interrupt statistics, as `QueueThreads.run` does for its
    /// device. Throws the server's error, if it had one, after `body` returns.
    public static func serving<D: MultiQueueDevice & ~Copyable, R>(
        _ device: inout D, waker: QueueWaker, interruptTimeout: Duration = .milliseconds(100), logger: Logger = .silent,
        metrics: DeviceMetrics? = nil, tickInterval: Duration = .seconds(1),
        _ body: (InterruptServer) throws -> R
    ) throws -> (result: R, control: QueueThreads.ControlStatistics) {
        let server = InterruptServer(state: State())
        let state = server.state
        let result: R = try withUnsafeMutablePointer(to: &device) { pointer in
            let device = SlotPointer(pointer: pointer)
            let logger = logger.forDevice(address: nil, driver: pointer.pointee.driverName)
            let start = ThreadStart {
                var control = QueueThreads.ControlStatistics()
                var metrics = metrics
                let clock = ContinuousClock()
                var nextTick = clock.now + tickInterval
                defer {
                    metrics?.record(device: &device.pointer.pointee, control: control)
                    state.control.withLock { $0 = control }
                }
                do {
                    while !state.stop.load(ordering: .relaxed) {
                        _ = try QueueThreads.serveInterrupt(device: &device.pointer.pointee, waker: waker, timeout: interruptTimeout,
                                                            control: &control, logger: logger)
                        if metrics != nil, clock.now >= nextTick {
                            metrics?.record(device: &device.pointer.pointee, control: control)
                            nextTick = clock.now + tickInterval
                        }
                    }
                } catch {
                    logger.error("interrupt line failed: queues of this device will no longer be woken", metadata: ["error": "\(error)"])
                    state.failure.withLock { $0 = "interrupt line of \(device.pointer.pointee.driverName): \(error)" }
                }
            }
            let (thread, code) = QueueThreads.startThread(start)
            guard let thread else {
                throw UIOError.device("could not start the interrupt thread: \(String(cString: strerror(code)))")
            }
            defer {
                state.stop.store(true, ordering: .relaxed)
                pthread_join(thread, nil)
            }
            return try body(server)
        }
        if let failure = state.failure.withLock({ $0 }) { throw UIOError.device(failure) }
        return (result, state.control.withLock { $0 })
    }
}
