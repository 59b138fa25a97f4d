import Foundation
import Scheduler
import Synchronization
import Testing
import UIO
import UIOSimulator
import VirtioNet

/// `DevicePair`: one `PacketLoop` over two NICs, asleep on both NICs' interrupts.
@Suite struct DevicePairTests {
    typealias Virtio = VirtioNetDevice<SimulatedPCIFunction<VirtioNetModel>, SimulatedDMA>

    /// Frames handed over per direction, readable from the loop's `until`.
    final class Counts: Sendable {
        let fromA = Atomic<Int>(0)
        let fromB = Atomic<Int>(0)
    }

    /// Forwards each batch out of the other NIC, as the forwarder does.
    struct Forward<A: NetworkDevice & ~Copyable, B: NetworkDevice & ~Copyable>: BatchHandler {
        let a: UnsafeMutablePointer<A>
        let b: UnsafeMutablePointer<B>
        let counts: Counts
        mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
            if queue == 0 {
                counts.fromA.add(batch.count, ordering: .relaxed)
                _ = b.pointee.transmit(queue: 0, from: &batch)
            } else {
                counts.fromB.add(batch.count, ordering: .relaxed)
                _ = a.pointee.transmit(queue: 0, from: &batch)
            }
        }
    }

    /// A legacy and a modern simulated virtio NIC, with their MAC addresses.
    struct TwoNICs {
        let dma = SimulatedDMA()
        let macA = MACAddress(0x52, 0x54, 0, 0, 0, 1), macB = MACAddress(0x52, 0x54, 0, 0, 0, 2)
        let modelA: VirtioNetModel, modelB: VirtioNetModel
        init() {
            modelA = VirtioNetModel(.init(layout: .legacy, mac: macA), dma: dma)
            modelB = VirtioNetModel(.init(layout: .modern, mac: macB), dma: dma)
        }
        func makeA() throws -> Virtio { try Virtio(function: modelA.makePCIFunction(), allocator: dma) }
        func makeB() throws -> Virtio { try Virtio(function: modelB.makePCIFunction(), allocator: dma) }
    }

    /// Waits (bounded) until the model has sent something, and takes it.
    func transmitted(by model: VirtioNetModel) -> [[UInt8]] {
        for _ in 0..<200 {
            let frames = model.takeTransmitted()
            if !frames.isEmpty { return frames }
            usleep(10_000)
        }
        return []
    }

    @Test(arguments: [SchedulerPolicy.Mode.hybrid, .interrupt])
    func aSleepingPairWakesForAFrameOnEitherNIC(mode: SchedulerPolicy.Mode) throws {
        let nics = TwoNICs()
        let (modelA, modelB, macA, macB) = (nics.modelA, nics.modelB, nics.macA, nics.macB)
        var a = try nics.makeA(), b = try nics.makeB()
        modelA.startRunning()
        modelB.startRunning()
        defer {
            modelA.stopRunning()
            modelB.stopRunning()
        }
        // A 10 s sleep timeout: within the test's 5 s bound only an interrupt ends a sleep.
        var loop = PacketLoop(policy: SchedulerPolicy(mode: mode, emptyPollsBeforeSleep: 5, sleepTimeout: .seconds(10)),
                              tickInterval: .seconds(3600))
        let counts = Counts()
        let toA = frame(to: macA, 1), toB = frame(to: macB, 2)
        // The loop is asleep by then: first a frame for A, later one for B.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { modelA.inject(frame: toA) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) { modelB.inject(frame: toB) }
        let clock = ContinuousClock()
        let start = clock.now
        let queues = try withDevicePair(&a, &b) { pair in
            var handler = Forward(a: pair.first, b: pair.second, counts: counts)
            try loop.run(device: &pair, handler: &handler) {
                (counts.fromA.load(ordering: .relaxed) >= 1 && counts.fromB.load(ordering: .relaxed) >= 1) || clock.now - start > .seconds(5)
            }
            return pair.rxQueueCount
        }
        #expect(queues == 2)
        // A loop asleep when a frame came could only have been woken by that NIC's interrupt
        // within the bound. (On a loaded machine the loop may still be polling when a frame
        // comes; `waitsOnBothNICsInterrupts` tests the wake itself without threads.)
        #expect(clock.now - start < .seconds(5), "not woken by the interrupts")
        #expect(counts.fromA.load(ordering: .relaxed) == 1)
        #expect(counts.fromB.load(ordering: .relaxed) == 1)
        #expect(loop.statistics.sleeps >= 1)
        // Each frame left by the other NIC, unchanged.
        #expect(transmitted(by: modelB) == [toA])
        #expect(transmitted(by: modelA) == [toB])
        #expect(modelA.faults.isEmpty && modelB.faults.isEmpty, "\(modelA.faults) \(modelB.faults)")
    }

    /// The pair's wait itself, step by step: an armed queue's frame on either NIC ends the
    /// wait at once, and the acknowledgement names that NIC's queue (B's after A's).
    @Test func waitsOnBothNICsInterrupts() throws {
        let nics = TwoNICs()
        let (modelA, modelB, macA, macB) = (nics.modelA, nics.modelB, nics.macA, nics.macB)
        var a = try nics.makeA(), b = try nics.makeB()
        let clock = ContinuousClock()
        try withDevicePair(&a, &b) { pair in
            pair.enableInterrupt(queue: 0)
            pair.enableInterrupt(queue: 1)
            // Nothing pending: the wait runs to its timeout.
            var start = clock.now
            let none = try pair.waitForInterrupt(timeout: .milliseconds(50))
            #expect(none == nil)
            #expect(clock.now - start >= .milliseconds(45))
            for (model, mac, queue) in [(modelB, macB, 1), (modelA, macA, 0)] {
                model.arrive(frame(to: mac))
                start = clock.now
                let event = try pair.waitForInterrupt(timeout: .seconds(10))
                #expect(event != nil)
                #expect(clock.now - start < .seconds(5))
                let causes = try pair.acknowledgeInterrupt()
                #expect(causes.queues == 1 << UInt64(queue))
                let pending = pair.hasPendingReceive(queue: queue)
                #expect(pending)
                var batch = PacketBatch(capacity: 8)
                let received = pair.receive(queue: queue, into: &batch)
                #expect(received == 1)
                batch.removeAll()
            }
            let taken = (pair.firstInterrupts, pair.secondInterrupts)
            #expect(taken == (1, 1))
        }
    }

    @Test func aPairWithADeviceThatHasNothingToPollSaysToPoll() throws {
        let dma = SimulatedDMA()
        let modelA = VirtioNetModel(.init(layout: .legacy), dma: dma)
        let modelB = VirtioNetModel(.init(layout: .legacy, mac: MACAddress(0x52, 0x54, 0, 0, 0, 9)), dma: dma)
        var a = try Virtio(function: modelA.makePCIFunction(), allocator: dma)
        // The probe's wrapper forwards no interrupt descriptors.
        var b = ProbedDevice(inner: try Virtio(function: modelB.makePCIFunction(), allocator: dma), probe: Probe())
        var loop = PacketLoop(policy: SchedulerPolicy(mode: .hybrid, emptyPollsBeforeSleep: 1, sleepTimeout: .seconds(1)))
        let counts = Counts()
        #expect {
            try withDevicePair(&a, &b) { pair in
                var handler = Forward(a: pair.first, b: pair.second, counts: counts)
                try loop.run(device: &pair, handler: &handler)
            }
        } throws: { "\($0)".contains("run the loop in poll mode") }
    }
}
