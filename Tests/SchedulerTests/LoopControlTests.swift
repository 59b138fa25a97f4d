import Foundation
import Scheduler
import Testing
import UIO
import UIOSimulator
import VirtioNet

/// Policies checked before a loop starts, and stopping one loop through its own token.
@Suite("Loop control") struct LoopControlTests {
    @Test func theDefaultPolicyIsValid() throws {
        try SchedulerPolicy().validate()
        try SchedulerPolicy(mode: .interrupt, emptyPollsBeforeSleep: 1, sleepTimeout: .zero, batchSize: 1).validate()
    }

    @Test(arguments: [
        (SchedulerPolicy(batchSize: 0), "batchSize"),
        (SchedulerPolicy(batchSize: -3), "batchSize"),
        (SchedulerPolicy(emptyPollsBeforeSleep: 0), "emptyPollsBeforeSleep"),
        (SchedulerPolicy(sleepTimeout: .milliseconds(-1)), "sleepTimeout"),
    ])
    func aPolicyThatBreaksARuleNamesTheField(policy: SchedulerPolicy, field: String) {
        #expect {
            try policy.validate()
        } throws: { error in
            guard let error = error as? SchedulerPolicyError else { return false }
            return error.field == field && "\(error)".contains("SchedulerPolicy.\(field) must be")
        }
    }

    /// Used to trap inside `PacketLoop.run` with a message about `PacketBatch`.
    @Test func theLoopRefusesABatchSizeOfZeroBeforeTouchingTheDevice() throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: .legacy), dma: dma)
        var device = try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma)
        var handler = StopAfterFirstBatch(token: nil)
        var loop = PacketLoop(policy: SchedulerPolicy(mode: .poll, batchSize: 0))
        #expect(throws: SchedulerPolicyError(field: "batchSize", rule: "at least 1 (packets per receive call)", value: "0")) {
            try loop.run(device: &device, handler: &handler)
        }
        #expect(loop.statistics.polls == 0)
        device.shutdown()
    }

    struct StopAfterFirstBatch: BatchHandler {
        let token: LoopStopToken?
        var frames = 0
        mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
            frames += batch.count
            token?.trip()
        }
    }

    @Test func theHandlerStopsItsOwnLoopAndRunReturnsTheStatistics() throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: .legacy), dma: dma)
        var device = try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma)
        let token = LoopStopToken()
        var handler = StopAfterFirstBatch(token: token)
        var loop = PacketLoop(policy: SchedulerPolicy(mode: .poll), stopToken: token)
        let clock = ContinuousClock()
        let start = clock.now
        var polls = 0
        let mac = device.macAddress
        let statistics = try loop.run(device: &device, handler: &handler) {
            polls += 1
            if polls == 10 { model.inject(frame: frame(to: mac)); _ = model.step() }
            return clock.now - start > .seconds(20)  // a broken token fails the test, not the run
        }
        #expect(token.isTripped)
        #expect(handler.frames == 1)
        #expect(statistics.packets == 1)
        // Stopped at the first empty poll after the one that received the frame, not at the
        // time limit.
        #expect(statistics.polls == 11)
        #expect(statistics.totalTime > .zero && statistics.totalTime == loop.statistics.totalTime)
        #expect(!StopSignal.isRequested, "the process-wide signal was not used")
        device.shutdown()
    }

    @Test func anotherThreadStopsASleepingLoop() throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: .legacy), dma: dma)
        var device = try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma)
        var handler = StopAfterFirstBatch(token: nil)
        var loop = PacketLoop(policy: SchedulerPolicy(mode: .interrupt, sleepTimeout: .milliseconds(5)))
        let token = loop.stopToken
        let thread = Thread { Thread.sleep(forTimeInterval: 0.05); token.trip() }
        thread.start()
        let clock = ContinuousClock()
        let start = clock.now
        let statistics = try loop.run(device: &device, handler: &handler) { clock.now - start > .seconds(20) }
        #expect(clock.now - start < .seconds(10))
        #expect(statistics.sleeps >= 1)
        #expect(statistics.packets == 0)
        device.shutdown()
    }
}
