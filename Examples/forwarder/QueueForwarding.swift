import ExampleSupport
import UIODevices
import Scheduler
import UIO

/// `--queues N`: thread q forwards between queue pair q of both NICs, both ways, busy-polling.
/// A frame received on A's queue q goes out of B's queue q, so its buffer is freed on the
/// thread that owns A's pool q: no pool is ever touched by two threads.
struct MultiQueueForwarding: MultiQueueDeviceUser {
    let options: Forwarder
    let cores: [Int]

    mutating func use<A: MultiQueueDevice & ~Copyable>(_ a: inout A) throws {
        var first = FirstSet(options: options, cores: cores)
        try a.withDetachedQueues(&first)
    }
}

/// Holds NIC A's queues while NIC B is opened.
struct FirstSet: QueueSetUser {
    let options: Forwarder
    let cores: [Int]

    mutating func use<D: MultiQueueDevice & ~Copyable, QA: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<QA>) throws {
        try withUnsafeMutablePointer(to: &queues) { setA in
            var second = SecondDevice(options: options, cores: cores, setA: SetPointer(set: setA))
            try DeviceOpener.with(options.pciB, queues: options.queues, backend: options.backend,
                                  logger: ExampleLogging.logger("forwarder", device: options.pciB), &second)
        }
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

    mutating func use<B: MultiQueueDevice & ~Copyable>(_ b: inout B) throws {
        var second = SecondSet(options: options, cores: cores, setA: setA)
        Console.line("forwarder: \(options.pciA) <-> \(options.pciB), batch \(options.batch), queues \(options.queues): ready")
        try b.withDetachedQueues(&second)
    }
}

struct SecondSet<QA: QueuePair & ~Copyable>: QueueSetUser {
    let options: Forwarder
    let cores: [Int]
    let setA: SetPointer<QA>

    mutating func use<D: MultiQueueDevice & ~Copyable, QB: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<QB>) throws {
        let waker = try QueueWaker(queues: queues.count)
        defer { waker.destroy() }
        let setA = setA, batchSize = options.batch, seconds = options.seconds, pciA = options.pciA, pciB = options.pciB
        let retries = options.txRetries
        _ = try QueueThreads.run(device: &device, queues: &queues, waker: waker, cores: cores,
                                 logger: ExampleLogging.logger("forwarder", device: pciB)) { b, context in
            let a = setA.slot(b.index)
            var batch = PacketBatch(capacity: batchSize)
            let clock = ContinuousClock()
            let start = clock.now
            var dropped: UInt64 = 0, polls = 0
            while !context.shouldStop && !StopSignal.isRequested {
                dropped &+= forward(from: &a.pointee, to: &b, batch: &batch, retries: retries)
                dropped &+= forward(from: &b, to: &a.pointee, batch: &batch, retries: retries)
                polls &+= 1
                if polls & 0xfff == 0, seconds > 0, clock.now - start >= .milliseconds(Int(seconds * 1000)) { break }
            }
            let sa = a.pointee.statistics, sb = b.statistics
            Console.line("forwarder: queue \(b.index): \(pciA) rx=\(sa.rxPackets) tx=\(sa.txPackets), \(pciB) rx=\(sb.rxPackets) tx=\(sb.txPackets), dropped=\(dropped)")
            context.stop()
        }
    }
}

/// One batch from `from` to `to`, each frame touched (as ixy-fwd); while `to`'s ring is full,
/// up to `retries` more transmit calls (as the single-queue forwarder); returns frames dropped.
@inline(__always)
func forward<X: QueuePair & ~Copyable, Y: QueuePair & ~Copyable>(from: inout X, to: inout Y, batch: inout PacketBatch, retries: Int) -> UInt64 {
    let received = from.receive(into: &batch)
    if received == 0 { return 0 }
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
    return UInt64(left)
}
