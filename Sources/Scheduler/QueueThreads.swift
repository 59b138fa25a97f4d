import CUIOShim
import Logging
import Synchronization
import UIO
#if canImport(Glibc)
import Glibc
#endif

/// One thread per queue pair, and the device's control path on the calling thread.
///
/// Who owns what:
/// - queue thread q owns queue pair q's handle (in its `QueueSet` slot, used in place): its
///   rings, its mempool, its counters. Nothing it touches per packet is written by another
///   thread.
/// - the calling thread keeps the device: it alone waits on the interrupt line
///   (`/dev/uioN`), acknowledges the cause, re-arms INTx, follows link changes, and wakes the
///   queues with work through `QueueWaker`.
/// Both stop when any of them fails or `Context.stop()` is called; `run` joins every thread
/// before it returns or rethrows, so the handles are back in the set when it does.
public enum QueueThreads {
    /// What a queue thread's body gets besides its queue.
    public struct Context: Sendable {
        let state: RunState
        public let waker: QueueWaker
        public let queueCount: Int
        /// Whether the run should end (another thread failed, or `stop()` was called).
        public var shouldStop: Bool { state.stop.load(ordering: .relaxed) }
        public func stop() { state.stop.store(true, ordering: .relaxed) }
    }

    final class RunState: Sendable {
        let stop = Atomic<Bool>(false)
        let remaining: Atomic<Int>
        let errors: Mutex<[String]> = Mutex([])
        init(threads: Int) { remaining = Atomic(threads) }
    }

    /// What the control thread did.
    public struct ControlStatistics: Sendable {
        public var interrupts: UInt64 = 0
        public var missedInterrupts: UInt64 = 0
        /// Queue wake-ups sent (at most one per armed queue with work per interrupt).
        public var wakes: UInt64 = 0
        public var linkChanges: UInt64 = 0
        public init() {}
    }

    /// Runs `body` on one thread per queue in `queues` (pinned to `cores[q % cores.count]`
    /// when `cores` is not empty) and the interrupt fan-out on this thread, until every
    /// queue thread has returned. `onLinkChange` runs on this thread. A stop (`until`
    /// returning true, `StopSignal`, a failed thread) sets `Context.shouldStop` and wakes every
    /// sleeping queue, so the bodies' loops see it at once. Link changes and missed
    /// interrupts are logged to `logger` (with the driver's name as metadata). Every
    /// `tickInterval` (and once after the threads stop), on this thread, `metrics` records every
    /// queue's counters, then `onTick` runs (to export them, say).
    public static func run<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(
        device: inout D, queues: inout QueueSet<Q>, waker: QueueWaker, cores: [Int] = [],
        interruptTimeout: Duration = .milliseconds(100),
        onLinkChange: (inout D) -> Void = { _ in },
        logger: Logger = .silent,
        metrics: DeviceMetrics? = nil,
        tickInterval: Duration = .seconds(1),
        onTick: (inout D) -> Void = { _ in },
        until shouldStop: () -> Bool = { false },
        body: @escaping @Sendable (inout Q, Context) throws -> Void
    ) throws -> ControlStatistics {
        precondition(waker.count >= queues.count, "the waker needs a slot per queue")
        let state = RunState(threads: queues.count)
        let context = Context(state: state, waker: waker, queueCount: queues.count)
        var threads: [pthread_t] = []
        for q in 0..<queues.count {
            let slot = SlotPointer(pointer: queues.slot(q))
            let core = cores.isEmpty ? nil : cores[q % cores.count]
            let start = ThreadStart {
                defer { state.remaining.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
                do {
                    if let core { try pinCurrentThread(to: core, queue: q) }
                    try body(&slot.pointer.pointee, context)
                } catch {
                    state.errors.withLock { $0.append("queue \(q): \(error)") }
                    state.stop.store(true, ordering: .relaxed)
                }
            }
            let (thread, created) = startThread(start)
            guard let thread else {
                state.remaining.wrappingSubtract(queues.count - q, ordering: .sequentiallyConsistent)
                state.errors.withLock { $0.append("could not start the thread of queue \(q): \(String(cString: strerror(created)))") }
                state.stop.store(true, ordering: .relaxed)
                break
            }
            threads.append(thread)
        }

        var control = ControlStatistics()
        let logger = logger.forDevice(address: nil, driver: device.driverName)
        logger.debug("queue threads started", metadata: ["queues": "\(queues.count)", "cores": "\(cores)"])
        var metrics = metrics
        let clock = ContinuousClock()
        var nextTick = clock.now + tickInterval
        var stopping = false
        while state.remaining.load(ordering: .sequentiallyConsistent) > 0 {
            if !stopping && (state.stop.load(ordering: .relaxed) || StopSignal.isRequested || shouldStop()) {
                state.stop.store(true, ordering: .relaxed)
                stopping = true
            }
            // Until every thread has seen the stop (one may be just about to sleep).
            if stopping { waker.wakeAll() }
            if clock.now >= nextTick {
                metrics?.record(device: &device, control: control)
                onTick(&device)
                nextTick = clock.now + tickInterval
            }
            do {
                if try serveInterrupt(device: &device, waker: waker, timeout: interruptTimeout, control: &control, logger: logger) {
                    onLinkChange(&device)
                }
            } catch {
                state.errors.withLock { $0.append("interrupt line: \(error)") }
                state.stop.store(true, ordering: .relaxed)
                break
            }
        }
        for thread in threads { pthread_join(thread, nil) }
        metrics?.record(device: &device, control: control)
        onTick(&device)
        let errors = state.errors.withLock { $0 }
        logger.debug("queue threads stopped", metadata: [
            "interrupts": "\(control.interrupts)", "missed-interrupts": "\(control.missedInterrupts)", "errors": "\(errors.count)"])
        if !errors.isEmpty { throw UIOError.device(errors.joined(separator: "; ")) }
        return control
    }

    /// The control path's step: waits up to `timeout` for the device's interrupt, acknowledges
    /// its cause and wakes, through `waker`, the sleeping queues with work. Returns whether the
    /// link changed.
    static func serveInterrupt<D: MultiQueueDevice & ~Copyable>(
        device: inout D, waker: QueueWaker, timeout: Duration, control: inout ControlStatistics, logger: Logger
    ) throws -> Bool {
        guard let event = try device.waitForInterrupt(timeout: timeout) else { return false }
        control.interrupts &+= 1
        if event.missed > 0 {
            control.missedInterrupts &+= UInt64(event.missed)
            logger.warning("missed interrupts", metadata: [
                "missed": "\(event.missed)", "interrupt-count": "\(event.count)", "missed-total": "\(control.missedInterrupts)"])
        }
        let causes = try device.acknowledgeInterrupt()
        control.wakes &+= UInt64(waker.wakeQueuesWithWork(mask: causes.queues))
        guard causes.linkChanged else { return false }
        control.linkChanges &+= 1
        logger.notice("link \(device.link)", metadata: [
            "link": "\(device.link.isUp ? "up" : "down")", "speed-mbps": "\(device.link.speedMbps)"])
        return true
    }

    /// Starts `start` on a new thread; returns nil, with the reason, if it could not.
    static func startThread(_ start: ThreadStart) -> (pthread_t?, CInt) {
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { arg in
            Unmanaged<ThreadStart>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, Unmanaged.passRetained(start).toOpaque())
        if created != 0 {
            Unmanaged.passUnretained(start).release()
            return (nil, created)
        }
        return (thread, 0)
    }

    /// Pins the calling thread to one core (sched_setaffinity on thread id 0 = this thread).
    static func pinCurrentThread(to core: Int, queue: Int) throws {
        if uio_pin_current_thread(Int32(clamping: core)) != 0 {
            throw UIOError.device("pinning queue \(queue)'s thread to core \(core) failed: \(String(cString: strerror(errno))); pick cores this process may use (0 to nproc − 1; see taskset -p $$)")
        }
    }
}

/// A queue slot's address, handed to the one thread that will use it.
struct SlotPointer<Q: ~Copyable>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Q>
}

/// A thread's body, boxed for pthread_create's context pointer (at thread start only).
final class ThreadStart: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
