import Dispatch
import Scheduler
import ServiceLifecycle
import Synchronization
import UIO

/// A `PacketLoop` as a swift-service-lifecycle `Service`: put it in a `ServiceGroup`, and a
/// graceful shutdown (SIGTERM, when the group traps it) stops the loop, resets the device and
/// frees its memory before `run()` returns.
///
/// The device is opened by `openDevice` on the loop's own thread and never leaves it: a driver
/// is a `~Copyable` value that one thread owns, and the loop blocks that thread (it polls, or
/// sleeps on the device's interrupt), so it does not run on the Swift concurrency pool.
///
/// ```swift
/// let service = PacketLoopService(
///     openDevice: { try VirtioNetDevice(function: try UIOPCIDevice(address: "0000:00:04.0"),
///                                       allocator: HugepageAllocator()) },
///     makeHandler: { MyHandler() })
/// let group = ServiceGroup(configuration: .init(services: [.init(service: service)],
///                                               gracefulShutdownSignals: [.sigterm], logger: logger))
/// try await group.run()
/// ```
public struct PacketLoopService<Device: NetworkDevice & ~Copyable, Handler: BatchHandler & ~Copyable>: Service {
    public let policy: SchedulerPolicy
    public let tickInterval: Duration
    let openDevice: @Sendable () throws -> Device
    let makeHandler: @Sendable () throws -> Handler
    let finished: @Sendable (SchedulerStatistics) -> Void

    /// - Parameters:
    ///   - policy: when the loop polls and when it sleeps.
    ///   - tickInterval: how often the handler's `tick(device:)` runs.
    ///   - openDevice: opens the device, on the loop's thread.
    ///   - makeHandler: makes the handler, on the loop's thread.
    ///   - finished: called on the loop's thread with the loop's statistics, after the device
    ///     was shut down.
    public init(policy: SchedulerPolicy = .init(), tickInterval: Duration = .seconds(1),
                openDevice: @escaping @Sendable () throws -> Device,
                makeHandler: @escaping @Sendable () throws -> Handler,
                finished: @escaping @Sendable (SchedulerStatistics) -> Void = { _ in }) {
        self.policy = policy
        self.tickInterval = tickInterval
        self.openDevice = openDevice
        self.makeHandler = makeHandler
        self.finished = finished
    }

    /// Runs until a graceful shutdown or cancellation, which the loop sees within one
    /// `policy.sleepTimeout`. Rethrows what opening the device or the loop threw.
    public func run() async throws {
        let stop = StopRequest()
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await runOnOwnThread(stop)
            } onGracefulShutdown: {
                stop.request()
            }
        } onCancel: {
            stop.request()
        }
    }

    private func runOnOwnThread(_ stop: StopRequest) async throws {
        let body = UncheckedSendable(self)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue(label: "swift-uio.packet-loop").async {
                continuation.resume(with: Result { try body.value.loop(until: stop) })
            }
        }
    }

    private func loop(until stop: StopRequest) throws {
        var device = try openDevice()
        var handler = try makeHandler()
        var loop = PacketLoop(policy: policy, tickInterval: tickInterval)
        // Reset on every way out (the deinit would too); on the normal one, before `finished`,
        // so that the caller is told only once the device is quiet. shutdown() is idempotent.
        defer { device.shutdown() }
        try loop.run(device: &device, handler: &handler, until: { stop.isRequested })
        device.shutdown()
        finished(loop.statistics)
    }
}

/// Set once, from any thread; read by the loop at every poll.
final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)
    func request() { flag.store(true, ordering: .releasing) }
    var isRequested: Bool { flag.load(ordering: .acquiring) }
}

/// The service's closures are `@Sendable`; the struct around them is handed to one thread.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
