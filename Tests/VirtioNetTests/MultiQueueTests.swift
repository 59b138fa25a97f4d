import Foundation
import Scheduler
import Synchronization
import Testing
import UIO
import UIOSimulator
import VirtioNet

/// A UDP/IPv4 frame from 198.51.100.1:`sourcePort` to 192.0.2.2:7, with `tag` in its payload.
func udpFrame(sourcePort: Int, tag: Int, to mac: MACAddress = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)) -> [UInt8] {
    let payload = (0..<18).map { UInt8(truncatingIfNeeded: tag >> (8 * ($0 % 4)) &+ $0) }
    let udp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), 0, 7, 0, UInt8(8 + payload.count), 0, 0] + payload
    let ip: [UInt8] = [0x45, 0, 0, UInt8(20 + udp.count), 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 1, 192, 0, 2, 2]
    return mac.array + [0x02, 0, 0, 0, 0, 1, 0x08, 0x00] + ip + udp
}

func multiQueueNIC(layout: VirtioNetModel.Layout, maxPairs: Int, pairs: Int, running: Bool = true) throws -> SimulatedVirtioNIC {
    let dma = SimulatedDMA()
    let model = VirtioNetModel(.init(layout: layout, maxQueuePairs: maxPairs), dma: dma)
    // The driver sends VQ_PAIRS_SET during init and waits for the answer: the device must run.
    if running { model.startRunning() }
    var options = SimulatedVirtioDevice.Configuration()
    options.mempoolSize = 1024
    options.queuePairs = pairs
    return SimulatedVirtioNIC(model: model, device: try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma, configuration: options))
}

@Suite struct MultiQueueTests {
    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func negotiatesMQThenFindsTheControlQueueAfterThePairs(layout: VirtioNetModel.Layout) throws {
        let nic = try multiQueueNIC(layout: layout, maxPairs: 4, pairs: 2)
        defer { nic.model.stopRunning() }
        #expect(nic.model.negotiatedFeatures.contains(.multiQueue))
        // 4 pairs exist once MQ is negotiated; the control queue moved from 2 to 8.
        #expect(nic.model.virtqueueCount == 9)
        #expect(nic.model.notifications(queue: 8) >= 1)
        #expect(nic.model.activeQueuePairs == 2)
        #expect(nic.device.rxQueueCount == 2 && nic.device.maxQueuePairs == 4)
        #expect(nic.model.faults.isEmpty)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func oneQueueLeavesMQAlone(layout: VirtioNetModel.Layout) throws {
        let nic = try multiQueueNIC(layout: layout, maxPairs: 2, pairs: 1, running: false)
        #expect(!nic.model.negotiatedFeatures.contains(.multiQueue))
        #expect(nic.model.virtqueueCount == 3)
        #expect(nic.model.activeQueuePairs == 1)
        #expect(nic.model.faults.isEmpty)
    }

    @Test func refusesMorePairsThanOfferedSayingHowMany() throws {
        #expect(throws: UIOError.self) { _ = try multiQueueNIC(layout: .modern, maxPairs: 2, pairs: 3) }
        do { _ = try multiQueueNIC(layout: .modern, maxPairs: 2, pairs: 3) } catch {
            #expect("\(error)".contains("offers 2"))
        }
        do { _ = try multiQueueNIC(layout: .legacy, maxPairs: 1, pairs: 2) } catch {
            #expect("\(error)".contains("does not offer VIRTIO_NET_F_MQ"))
        }
    }

    /// 64 UDP flows: each flow stays on one queue, both queues carry at least 20 % of them,
    /// frames arrive intact, and the per-queue counters add up to the device's total.
    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func spreadsFlowsOverPairsAndKeepsEachFlowOnOne(layout: VirtioNetModel.Layout) throws {
        var nic = try multiQueueNIC(layout: layout, maxPairs: 2, pairs: 2)
        nic.model.stopRunning()
        var queueOfFlow: [Int: Int] = [:]
        var batch = PacketBatch(capacity: 64)
        for round in 0..<3 {
            for flow in 0..<64 { nic.model.inject(frame: udpFrame(sourcePort: 40000 + flow, tag: round * 64 + flow)) }
            _ = nic.model.step()
            for q in 0..<2 {
                let n = nic.device.receive(queue: q, into: &batch)
                for i in 0..<n {
                    let frame = batch[i].array
                    let port = Int(frame[34]) << 8 | Int(frame[35])
                    let flow = port - 40000
                    #expect(frame == udpFrame(sourcePort: port, tag: round * 64 + flow))
                    if let earlier = queueOfFlow[flow] { #expect(earlier == q) }
                    queueOfFlow[flow] = q
                }
                batch.removeAll()
            }
        }
        #expect(queueOfFlow.count == 64)
        let perQueue = (0..<2).map { q in queueOfFlow.values.filter { $0 == q }.count }
        #expect(perQueue.allSatisfy { $0 * 5 >= 64 }, "flows per queue: \(perQueue)")
        #expect(nic.device.queueStatistics(0).rxPackets + nic.device.queueStatistics(1).rxPackets == 192)
        #expect(nic.device.statistics().rxPackets == 192)
        #expect(nic.model.faults.isEmpty)
    }

    /// The examples print their totals after `shutdown()`: the counters must outlive it.
    @Test func statisticsStayReadableAfterShutdown() throws {
        var nic = try multiQueueNIC(layout: .legacy, maxPairs: 2, pairs: 2)
        nic.model.stopRunning()
        var batch = PacketBatch(capacity: 64)
        for flow in 0..<16 { nic.model.inject(frame: udpFrame(sourcePort: 40000 + flow, tag: flow)) }
        _ = nic.model.step()
        for q in 0..<2 { _ = nic.device.receive(queue: q, into: &batch); batch.removeAll() }
        nic.device.shutdown()
        #expect(nic.device.statistics().rxPackets == 16)
        #expect(nic.device.bufferPoolAvailable == nil)
    }

    /// The fan-out race: thousands of arm/sleep/wake cycles. Each queue thread sleeps after
    /// every empty poll (interrupt mode) with a 5 s timeout; the test sends one frame, or two
    /// for different queues at once, and waits for the echo. A lost wake-up would leave a
    /// frame waiting for the timeout and miss the 2 s deadline; a thundering herd would show
    /// as more wake-ups than frames.
    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func fanOutWakesOnlyQueuesWithWorkAndLosesNoWakeUp(layout: VirtioNetModel.Layout) throws {
        var nic = try multiQueueNIC(layout: layout, maxPairs: 2, pairs: 2)
        defer { nic.model.stopRunning() }
        nic.model.setTransmitSink(nil)
        // One source port per queue, found through the model's steering.
        var portFor: [Int] = [-1, -1]
        do {
            nic.model.stopRunning()
            var batch = PacketBatch(capacity: 64)
            for flow in 0..<32 { nic.model.inject(frame: udpFrame(sourcePort: 40000 + flow, tag: 0)) }
            _ = nic.model.step()
            for q in 0..<2 {
                let n = nic.device.receive(queue: q, into: &batch)
                if n > 0 { portFor[q] = Int(batch[0].array[34]) << 8 | Int(batch[0].array[35]) }
                batch.removeAll()
            }
            nic.model.startRunning(idleSleep: .microseconds(20))
        }
        #expect(portFor.allSatisfy { $0 > 0 })
        let received = nic.device.statistics().rxPackets

        let cycles = 2000
        let model = nic.model
        let done = Flag()
        let ports = portFor
        // A thread of its own, not a Task: the test itself blocks a cooperative-pool thread
        // in QueueThreads.run, and the pool may have no other.
        let outcome = Mutex<(Int, UInt64)>((0, 0))
        let injector = Thread {
            outcome.withLock { $0 = injectCycles() }
            done.set()
        }
        @Sendable func injectCycles() -> (Int, UInt64) {
            var sent = 0
            var slowest: UInt64 = 0
            var rng = SystemRandomNumberGenerator()
            for cycle in 0..<cycles {
                // A random pause (busy, 0-150 µs) so that frames also land while the queue
                // thread is between its last empty poll and arming its interrupt: the window
                // the re-check after arming exists for.
                let pause = UInt64.random(in: 0...150_000, using: &rng)
                let until = DispatchTime.now().uptimeNanoseconds + pause
                while DispatchTime.now().uptimeNanoseconds < until {}
                let both = cycle % 4 == 3
                let target = model.counters.txFrames + (both ? 2 : 1)
                let start = DispatchTime.now().uptimeNanoseconds
                model.inject(frame: udpFrame(sourcePort: ports[cycle % 2], tag: cycle))
                if both { model.inject(frame: udpFrame(sourcePort: ports[(cycle + 1) % 2], tag: cycle)) }
                sent += both ? 2 : 1
                while model.counters.txFrames < target {
                    if DispatchTime.now().uptimeNanoseconds - start > 2_000_000_000 { return (sent, UInt64.max) }
                    usleep(20)
                }
                slowest = max(slowest, DispatchTime.now().uptimeNanoseconds - start)
            }
            return (sent, slowest)
        }
        injector.start()
        var user = ReflectUser(stop: done, policy: SchedulerPolicy(mode: .interrupt, sleepTimeout: .seconds(5), batchSize: 32))
        try nic.device.withDetachedQueues(&user)
        let (sent, slowest) = outcome.withLock { $0 }
        #expect(slowest != UInt64.max, "a frame waited more than 2 s: a lost wake-up")
        #expect(nic.device.statistics().rxPackets - received == UInt64(sent))
        let stats = user.results.loops.withLock { $0 }
        #expect(stats.count == 2)
        var wakes: UInt64 = 0
        for q in 0..<2 {
            let s = try #require(stats[q])
            #expect(s.wakeups >= UInt64(cycles / 4), "queue \(q) woke \(s.wakeups) times")
            #expect(s.sleeps - s.wakeups <= 1, "queue \(q) timed out \(s.sleeps - s.wakeups) times")
            wakes += s.wakeups
        }
        // No herd: a queue is woken only for a frame of its own.
        // (plus one per queue for the stop at the end).
        #expect(wakes <= UInt64(sent) + 2)
        #expect(user.control.interrupts > 0)
        #expect(nic.model.faults.isEmpty)
    }
}

final class Flag: Sendable {
    let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Sends every frame back out of the queue it came in on.
struct Reflect: QueueHandler {
    mutating func handle<Q: QueuePair & ~Copyable>(_ batch: inout PacketBatch, queue: inout Q) {
        _ = queue.transmit(from: &batch)
    }
}

/// Runs a `Reflect` loop per queue on `QueueThreads` until `stop` is set.
struct ReflectUser: QueueSetUser {
    let stop: Flag
    let policy: SchedulerPolicy
    let results = Results()
    var control = QueueThreads.ControlStatistics()

    init(stop: Flag, policy: SchedulerPolicy) {
        self.stop = stop
        self.policy = policy
    }

    mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws {
        let waker = try QueueWaker(queues: queues.count)
        defer { waker.destroy() }
        let stop = stop, policy = policy
        let results = results
        control = try QueueThreads.run(device: &device, queues: &queues, waker: waker, until: { stop.isSet }) { queue, context in
            var loop = PacketLoop(policy: policy)
            var handler = Reflect()
            try loop.run(queue: &queue, handler: &handler, waker: context.waker) { stop.isSet || context.shouldStop }
            let statistics = loop.statistics
            results.loops.withLock { $0[queue.index] = statistics }
        }
    }
}

final class Results: Sendable {
    let loops = Mutex<[Int: SchedulerStatistics]>([:])
}
