import Foundation
import Ixgbe
import Scheduler
import Synchronization
import Testing
import UIO
import UIOSimulator

/// The interrupt fan-out on ixgbe with RSS: two queue threads on `QueueThreads`, each sleeping
/// after every empty poll, the 82599 model stepping on a thread of its own and picking each
/// frame's queue through RSS. A descriptor ring's receive probe moves with every sleep (the
/// next descriptor), unlike virtio's used index: a waker that kept the first address would
/// look at a stale descriptor and leave the queue asleep.
@Suite struct IxgbeFanOutTests {
    @Test func rssQueuesSleepAndWakeThroughTheFanOutWithoutLosingAFrame() throws {
        let dma = SimulatedDMA()
        let model = IxgbeModel(.init(linkUpDelay: .immediate, clock: .manual()), dma: dma)
        let configuration = IxgbeConfiguration(rxQueues: 2, txQueues: 2, ringSize: 64, mempoolSize: 512,
                                               interruptThrottleMicroseconds: 0, linkTimeout: .milliseconds(200))
        var device = try IxgbeDevice(function: model.makePCIFunction(), allocator: dma, configuration: configuration)
        defer { device.shutdown() }
        let mac = device.macAddress
        // A source port for each queue, as the model's RSS picks.
        var ports = [-1, -1]
        for port in 40000..<40064 where ports.contains(-1) {
            let q = model.rssQueue(for: rssUDPFrame(to: mac, sourcePort: port, tag: 0)).queue
            if ports[q] < 0 { ports[q] = port }
        }
        #expect(!ports.contains(-1))

        let cycles = 600
        let done = FanOutFlag()
        let outcome = Mutex<(sent: Int, slowest: UInt64)>((0, 0))
        let chosen = ports
        // Threads of their own, not Tasks: QueueThreads.run blocks this thread.
        let stepper = Thread {
            while !done.isSet { if !model.step() { usleep(20) } }
        }
        let injector = Thread {
            var sent = 0, slowest: UInt64 = 0
            var rng = SystemRandomNumberGenerator()
            for cycle in 0..<cycles {
                // A random busy pause (0-150 µs): frames also land between a queue's last empty
                // poll and its arming, the window the re-check after arming is for.
                let until = DispatchTime.now().uptimeNanoseconds + UInt64.random(in: 0...150_000, using: &rng)
                while DispatchTime.now().uptimeNanoseconds < until {}
                let both = cycle % 4 == 3
                let target = model.counters.txFrames + (both ? 2 : 1)
                let start = DispatchTime.now().uptimeNanoseconds
                model.inject(frame: rssUDPFrame(to: mac, sourcePort: chosen[cycle % 2], tag: cycle))
                if both { model.inject(frame: rssUDPFrame(to: mac, sourcePort: chosen[(cycle + 1) % 2], tag: cycle)) }
                sent += both ? 2 : 1
                var late = false
                while model.counters.txFrames < target {
                    if DispatchTime.now().uptimeNanoseconds - start > 2_000_000_000 { late = true; break }
                    usleep(20)
                }
                slowest = late ? UInt64.max : max(slowest, DispatchTime.now().uptimeNanoseconds - start)
                if late { break }
            }
            outcome.withLock { $0 = (sent, slowest) }
            done.set()
        }
        stepper.start()
        injector.start()
        var user = ReflectEachQueue(stop: done)
        try device.withDetachedQueues(&user)
        while !done.isSet { usleep(1000) }
        let (sent, slowest) = outcome.withLock { $0 }
        #expect(slowest != UInt64.max, "a frame waited more than 2 s: a lost wake-up")
        let perQueue = (0..<2).map { device.queueStatistics($0).rxPackets }
        #expect(perQueue.reduce(0, +) == UInt64(sent))
        #expect(perQueue.allSatisfy { $0 >= UInt64(cycles / 2) }, "each queue echoes its own flow: \(perQueue)")
        let loops = user.results.loops.withLock { $0 }
        var wakes: UInt64 = 0
        for q in 0..<2 {
            let s = try #require(loops[q])
            #expect(s.wakeups >= UInt64(cycles / 8), "queue \(q) woke \(s.wakeups) times")
            wakes += s.wakeups
        }
        #expect(wakes <= UInt64(sent) + 2, "woken more often than frames arrived: \(wakes) for \(sent)")
        #expect(user.control.interrupts > 0)
        #expect(model.faults.isEmpty, "\(model.faults)")
    }
}

final class FanOutFlag: Sendable {
    let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// A 60-byte UDP/IPv4 frame from 198.51.100.7:`sourcePort` to 198.51.100.1:7, `tag` in its payload.
func rssUDPFrame(to mac: MACAddress, sourcePort: Int, tag: Int) -> [UInt8] {
    var frame = mac.array + [0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
    frame += [0x45, 0, 0, 46, 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 7, 198, 51, 100, 1]
    frame += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), 0, 7, 0, 26, 0, 0]
    frame += [UInt8(truncatingIfNeeded: tag >> 8), UInt8(truncatingIfNeeded: tag)]
    return frame + [UInt8](repeating: 0, count: 60 - frame.count)
}

/// Sends every frame back out of the queue it came in on, one `PacketLoop` per queue thread,
/// in interrupt mode with a 5 s sleep, until `stop`.
struct ReflectEachQueue: QueueSetUser {
    let stop: FanOutFlag
    let results = LoopResults()
    var control = QueueThreads.ControlStatistics()

    init(stop: FanOutFlag) { self.stop = stop }

    struct Reflect: QueueHandler {
        mutating func handle<Q: QueuePair & ~Copyable>(_ batch: inout PacketBatch, queue: inout Q) {
            _ = queue.transmit(from: &batch)
        }
    }

    mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws {
        let waker = try QueueWaker(queues: queues.count)
        defer { waker.destroy() }
        let stop = stop, results = results
        let policy = SchedulerPolicy(mode: .interrupt, sleepTimeout: .seconds(5), batchSize: 32)
        control = try QueueThreads.run(device: &device, queues: &queues, waker: waker, until: { stop.isSet }) { queue, context in
            var loop = PacketLoop(policy: policy)
            var handler = Reflect()
            try loop.run(queue: &queue, handler: &handler, waker: context.waker) { stop.isSet || context.shouldStop }
            let statistics = loop.statistics
            results.loops.withLock { $0[queue.index] = statistics }
        }
    }
}

/// Each queue thread's loop statistics, once it has returned.
final class LoopResults: Sendable {
    let loops = Mutex<[Int: SchedulerStatistics]>([:])
}
