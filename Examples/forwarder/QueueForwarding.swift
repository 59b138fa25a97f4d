import ExampleSupport
import UIODevices
import Scheduler
import UIO

/// `--queues N`: thread q forwards between queue pair q of both NICs, both ways. In hybrid mode
/// it sleeps, once both queues have been idle for `--idle-polls` polls, until either NIC's
/// interrupt reports work for its queue: NIC B's line is served by `QueueThreads.run` on the
/// main thread, NIC A's by an `InterruptServer` thread.
/// A frame received on A's queue q goes out of B's queue q, so its buffer is freed on the
/// thread that owns A's pool q: no pool is ever touched by two threads.
struct MultiQueueForwarding: MultiQueueDeviceUser {
    let options: Forwarder
    let cores: [Int]
    let metrics: MetricsExport?

    mutating func use<A: MultiQueueDevice & ~Copyable>(_ a: inout A) throws {
        var first = FirstSet(options: options, cores: cores, metrics: metrics)
        try a.withDetachedQueues(&first)
    }
}

/// Holds NIC A's queues while NIC B is opened, and serves A's interrupt line meanwhile.
struct FirstSet: QueueSetUser {
    let options: Forwarder
    let cores: [Int]
    let metrics: MetricsExport?

    mutating func use<D: MultiQueueDevice & ~Copyable, QA: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<QA>) throws {
        let wakerA = try QueueWaker(queues: queues.count)
        defer { wakerA.destroy() }
        let options = options, cores = cores, metrics = metrics
        let served = try withUnsafeMutablePointer(to: &queues) { setA in
            try InterruptServer.serving(&device, waker: wakerA, interruptTimeout: .milliseconds(250),
                                        logger: ExampleLogging.logger("forwarder", device: options.pciA),
                                        metrics: metrics?.device(options.pciA, driver: device.driverName)) { server in
                var second = SecondDevice(options: options, cores: cores, setA: SetPointer(set: setA), wakerA: wakerA, server: server, metrics: metrics)
                try DeviceOpener.with(options.pciB, queues: options.queues, backend: options.backend,
                                      logger: ExampleLogging.logger("forwarder", device: options.pciB), &second)
            }
        }
        metrics?.write()      // with A's last figures, recorded as its interrupt thread stopped
        Console.line("forwarder: \(options.pciA) interrupts=\(served.control.interrupts) queue-wakes=\(served.control.wakes)")
    }
}

struct SetPointer<QA: QueuePair & ~Copyable>: @unchecked Sendable {
    let set: UnsafeMutablePointer<QueueSet<QA>>
    func slot(_ q: Int) -> UnsafeMutablePointer<QA> { set.pointee.slot(q) }
}

struct SecondDevice<QA: QueuePair & ~Copyable>: MultiQueueDeviceUser {
    let options: Forwarder
    let cores: [Int]
    let setA: SetPointer<QA>
    let wakerA: QueueWaker
    let server: InterruptServer
    let metrics: MetricsExport?

    mutating func use<B: MultiQueueDevice & ~Copyable>(_ b: inout B) throws {
        var second = SecondSet(options: options, cores: cores, setA: setA, wakerA: wakerA, server: server, metrics: metrics)
        let mode = options.mode
        Console.line("forwarder: \(options.pciA) <-> \(options.pciB), batch \(options.batch), queues \(options.queues), mode \(mode.rawValue): ready")
        try b.withDetachedQueues(&second)
    }
}

struct SecondSet<QA: QueuePair & ~Copyable>: QueueSetUser {
    let options: Forwarder
    let cores: [Int]
    let setA: SetPointer<QA>
    let wakerA: QueueWaker
    let server: InterruptServer
    let metrics: MetricsExport?

    mutating func use<D: MultiQueueDevice & ~Copyable, QB: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<QB>) throws {
        let waker = try QueueWaker(queues: queues.count)
        defer { waker.destroy() }
        let setA = setA, wakerA = wakerA, server = server, batchSize = options.batch, seconds = options.seconds
        let pciA = options.pciA, pciB = options.pciB, retries = options.txRetries
        let mode = options.mode
        // Empty polls of both queues before sleeping: never in poll mode, at once in interrupt mode.
        let threshold = mode == .poll ? Int.max : mode == .interrupt ? 1 : options.idlePolls
        let clock = ContinuousClock()
        let start = clock.now
        // The main thread ends the run (--seconds, a stop signal, A's line failing) and wakes
        // the sleeping queue threads: their own sleeps need no short timeout, and an idle
        // forwarder wakes only for the two interrupt lines' timeouts.
        let stop = { server.hasFailed || (seconds > 0 && clock.now - start >= .milliseconds(Int(seconds * 1000))) }
        // NIC B's series are recorded here (the main thread), A's on A's interrupt thread; the
        // file is written here, once a second.
        let metrics = metrics
        // Both interrupt lines wait 250 ms at a time (a stop is seen within that): an idle
        // forwarder wakes 4 times a second per line, not 10.
        let control = try QueueThreads.run(device: &device, queues: &queues, waker: waker, cores: cores,
                                           interruptTimeout: .milliseconds(250),
                                           logger: ExampleLogging.logger("forwarder", device: pciB),
                                           metrics: metrics?.device(pciB, driver: device.driverName),
                                           onTick: { _ in metrics?.write() }, until: stop) { b, context in
            let a = setA.slot(b.index)
            var batch = PacketBatch(capacity: batchSize)
            var dropped: UInt64 = 0, emptyPolls = 0, sleeps = 0, wakeups = 0
            a.pointee.disableInterrupt()
            b.disableInterrupt()
            while !context.shouldStop && !StopSignal.isRequested {
                let ab = forward(from: &a.pointee, to: &b, batch: &batch, retries: retries)
                let ba = forward(from: &b, to: &a.pointee, batch: &batch, retries: retries)
                dropped &+= ab.dropped &+ ba.dropped
                if ab.received + ba.received > 0 {
                    emptyPolls = 0
                } else {
                    emptyPolls += 1
                    if emptyPolls >= threshold {
                        let outcome = try QueueWaker.sleep(&a.pointee, on: wakerA, &b, on: context.waker, timeout: .seconds(1))
                        a.pointee.disableInterrupt()
                        b.disableInterrupt()
                        if outcome != .lateArrival { sleeps += 1 }
                        if outcome == .woken { wakeups += 1 }
                        // A timed-out sleep: straight back to sleep after one more empty poll.
                        emptyPolls = outcome == .timedOut ? threshold - 1 : 0
                    }
                }
            }
            let sa = a.pointee.statistics, sb = b.statistics
            Console.line("forwarder: queue \(b.index): \(pciA) rx=\(sa.rxPackets) tx=\(sa.txPackets), \(pciB) rx=\(sb.rxPackets) tx=\(sb.txPackets), dropped=\(dropped) sleeps=\(sleeps) wakeups=\(wakeups)")
            context.stop()
        }
        Console.line("forwarder: \(pciB) interrupts=\(control.interrupts) queue-wakes=\(control.wakes)")
    }
}

/// One batch from `from` to `to`, each frame touched (as ixy-fwd); while `to`'s ring is full,
/// up to `retries` more transmit calls (as the single-queue forwarder). Returns the frames
/// received and those dropped.
@inline(__always)
func forward<X: QueuePair & ~Copyable, Y: QueuePair & ~Copyable>(
    from: inout X, to: inout Y, batch: inout PacketBatch, retries: Int
) -> (received: Int, dropped: UInt64) {
    let received = from.receive(into: &batch)
    if received == 0 { return (0, 0) }
    for i in 0..<received {
        let data = batch[i].data
        data.storeBytes(of: data.load(fromByteOffset: 1, as: UInt8.self) &+ 1, toByteOffset: 1, as: UInt8.self)
    }
    _ = to.transmit(from: &batch)
    var tries = 0
    while batch.count > 0 && tries < retries {
        _ = to.transmit(from: &batch)
        tries += 1
    }
    let left = batch.count
    batch.removeAll()
    return (received, UInt64(left))
}
