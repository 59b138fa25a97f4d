import UIO

/// What the application does with each batch one queue pair received, on that queue's own
/// thread. Generic over the handle, so every call is specialised, as `BatchHandler`.
public protocol QueueHandler: ~Copyable {
    /// Handles `batch` (received on `queue`); whatever is left in it afterwards is freed.
    mutating func handle<Q: QueuePair & ~Copyable>(_ batch: inout PacketBatch, queue: inout Q)
    /// Called about every `tickInterval` on the queue's thread (per-queue statistics).
    mutating func tick<Q: QueuePair & ~Copyable>(queue: inout Q)
}

extension QueueHandler where Self: ~Copyable {
    public mutating func tick<Q: QueuePair & ~Copyable>(queue: inout Q) {}
}

extension PacketLoop {
    /// The hybrid loop for one queue pair that this thread owns. It polls only its queue;
    /// idle, it sleeps on the queue's eventfd through `waker`, which the device's control
    /// thread (`QueueThreads`) signals when the shared interrupt line reports work for it.
    ///
    /// Stops as the device loop does: `stopToken`, `StopSignal` or `until`.
    ///
    /// - Returns: the loop's statistics (also in `statistics`).
    /// - Throws: `SchedulerPolicyError` before starting if `policy` breaks a rule; the waker's
    ///   errors from polling the queue's eventfd.
    @discardableResult
    public mutating func run<Q: QueuePair & ~Copyable, H: QueueHandler & ~Copyable>(
        queue: inout Q, handler: inout H, waker: QueueWaker, until shouldStop: () -> Bool = { false }
    ) throws -> SchedulerStatistics {
        try policy.validate()
        var ticks = TickSchedule(interval: tickInterval)
        var batch = PacketBatch(capacity: policy.batchSize)
        var idle = IdleCounter(policy: policy)
        let stopToken = stopToken
        queue.disableInterrupt()
        defer { statistics.totalTime = ticks.elapsed }

        while !StopSignal.isRequested && !stopToken.isTripped && !shouldStop() {
            let received = queue.receive(into: &batch)
            if received > 0 {
                handler.handle(&batch, queue: &queue)
                batch.removeAll()
            }
            if idle.polled(received: received, statistics: &statistics) {
                let before = ticks.clock.now
                let outcome = try waker.sleep(&queue, timeout: policy.sleepTimeout)
                switch outcome {
                case .lateArrival: statistics.lateArrivals &+= 1
                case .woken:
                    statistics.sleeps &+= 1
                    statistics.wakeups &+= 1
                case .timedOut: statistics.sleeps &+= 1
                }
                statistics.sleepingTime += ticks.clock.now - before
                queue.disableInterrupt()
                idle.slept(timedOut: outcome == .timedOut)
            }
            if statistics.polls & 63 == 0 || received == 0, ticks.isDue {
                handler.tick(queue: &queue)
                ticks.ticked()
            }
        }
        statistics.totalTime = ticks.elapsed
        return statistics
    }
}
