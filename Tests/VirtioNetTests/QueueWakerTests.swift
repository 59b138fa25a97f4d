import Foundation
import Scheduler
import Testing
import UIO

/// A queue whose "used index" is a plain word the test sets: the device side of the probe.
struct FakeQueue: QueuePair, ~Copyable, @unchecked Sendable {
    let index: Int
    let used: UnsafeMutablePointer<UInt16>
    var consumed: UInt16 = 0
    var interruptEnabled = false

    func hasPendingReceive() -> Bool { used.pointee != consumed }
    mutating func receive(into batch: inout PacketBatch) -> Int { consumed = used.pointee; return 0 }
    mutating func transmit(from batch: inout PacketBatch) -> Int { 0 }
    mutating func enableInterrupt() { interruptEnabled = true }
    mutating func disableInterrupt() { interruptEnabled = false }
    func receiveProbe() -> ReceiveProbe { ReceiveProbe(address: UnsafeRawPointer(used), width: 2, mask: 0xffff, expected: UInt32(consumed)) }
    var statistics: DeviceStatistics { DeviceStatistics() }
    var bufferPoolAvailable: Int { 0 }
}

@Suite struct QueueWakerTests {
    /// Step 4: a frame that arrived before the interrupt was armed raises no interrupt; the
    /// re-check must find it at once instead of sleeping out the timeout.
    @Test func aFrameBeforeArmingIsALateArrivalNotASleep() throws {
        let waker = try QueueWaker(queues: 1)
        defer { waker.destroy() }
        let word = UnsafeMutablePointer<UInt16>.allocate(capacity: 1); word.pointee = 1
        defer { word.deallocate() }
        var queue = FakeQueue(index: 0, used: word)
        let clock = ContinuousClock(), start = clock.now
        #expect(try waker.sleep(&queue, timeout: .seconds(5)) == .lateArrival)
        #expect(clock.now - start < .seconds(1))
        let armed = queue.interruptEnabled
        #expect(armed)
    }

    /// A queue that left its sleep on its own is not woken afterwards, and no wake-up is
    /// left over to end its next sleep early.
    @Test func aDisarmedQueueIsNotWokenAndNoStaleWakeUpRemains() throws {
        let waker = try QueueWaker(queues: 2)
        defer { waker.destroy() }
        let words = UnsafeMutablePointer<UInt16>.allocate(capacity: 2); words.initialize(repeating: 0, count: 2)
        defer { words.deallocate() }
        // Nothing armed: nothing to wake.
        #expect(waker.wakeQueuesWithWork() == 0)
        var q0 = FakeQueue(index: 0, used: words)
        // q0 times out (no frame), which leaves it disarmed: a wake now finds nobody.
        #expect(try waker.sleep(&q0, timeout: .milliseconds(20)) == .timedOut)
        words[0] = 1
        #expect(waker.wakeQueuesWithWork() == 0)
        _ = q0.receive(into: &dummyBatch)
        // A second sleep is not ended early by a stale wake-up.
        let clock = ContinuousClock(), start = clock.now
        #expect(try waker.sleep(&q0, timeout: .milliseconds(50)) == .timedOut)
        #expect(clock.now - start >= .milliseconds(40))
        #expect(waker.wakes(queue: 0) == 0 && waker.wakes(queue: 1) == 0)
    }

    /// One thread sleeping on two queues, each through its own device's waker (the
    /// multi-queue forwarder): a frame on the first queue's device, woken by that device's
    /// control side, ends the sleep long before its timeout; afterwards both slots are back to
    /// running (neither control side wakes it again) and no wake-up is left over for the next
    /// sleep on either eventfd.
    @Test func aPairSleepIsWokenByEitherDeviceAndLeavesNothingBehind() throws {
        let wakerA = try QueueWaker(queues: 1), wakerB = try QueueWaker(queues: 1)
        defer { wakerA.destroy(); wakerB.destroy() }
        let words = UnsafeMutablePointer<UInt16>.allocate(capacity: 2); words.initialize(repeating: 0, count: 2)
        let queues = UnsafeMutablePointer<FakeQueue>.allocate(capacity: 2)
        queues.initialize(to: FakeQueue(index: 0, used: words))
        (queues + 1).initialize(to: FakeQueue(index: 0, used: words + 1))
        defer { queues.deinitialize(count: 2); queues.deallocate(); words.deallocate() }
        let shared = SharedQueues(a: queues, b: queues + 1, wakerA: wakerA, wakerB: wakerB)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: QueueWaker.SleepOutcome?
        nonisolated(unsafe) var slept = Duration.zero
        Thread.detachNewThread {
            let clock = ContinuousClock(), start = clock.now
            outcome = try? QueueWaker.sleep(&shared.a.pointee, on: shared.wakerA, &shared.b.pointee, on: shared.wakerB, timeout: .seconds(5))
            slept = clock.now - start
            done.signal()
        }
        // Wait until both queues are armed (the second interrupt is enabled last), then give
        // the sleeper time to reach poll(2).
        var spins = 0
        while !(queues + 1).pointee.interruptEnabled && spins < 5000 { usleep(1000); spins += 1 }
        usleep(200_000)
        words[0] = 1
        let woke = wakerA.wakeQueuesWithWork()
        #expect(done.wait(timeout: .now() + 4) == .success)
        // Whichever side won the CAS decides the outcome: the control side (woken), or the
        // sleeper's own re-check if it had not reached poll(2) yet (a late arrival).
        #expect(outcome == (woke == 1 ? .woken : .lateArrival))
        #expect(slept < .seconds(4))
        // Both slots are running again: a frame on B now wakes nobody.
        words[1] = 1
        #expect(wakerA.wakeQueuesWithWork() == 0 && wakerB.wakeQueuesWithWork() == 0)
        // Taken: the next pair sleep finds nothing pending and runs to its timeout.
        _ = queues.pointee.receive(into: &dummyBatch)
        _ = (queues + 1).pointee.receive(into: &dummyBatch)
        let clock = ContinuousClock(), start = clock.now
        #expect(try QueueWaker.sleep(&queues.pointee, on: wakerA, &(queues + 1).pointee, on: wakerB, timeout: .milliseconds(50)) == .timedOut)
        #expect(clock.now - start >= .milliseconds(40))
    }
}

/// The two queues and their wakers, handed to the sleeping thread.
struct SharedQueues: @unchecked Sendable {
    let a: UnsafeMutablePointer<FakeQueue>
    let b: UnsafeMutablePointer<FakeQueue>
    let wakerA: QueueWaker
    let wakerB: QueueWaker
}

nonisolated(unsafe) var dummyBatch = PacketBatch(capacity: 1)
