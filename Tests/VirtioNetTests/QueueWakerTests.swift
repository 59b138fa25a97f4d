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
        q0.receive(into: &dummyBatch)
        // A second sleep is not ended early by a stale wake-up.
        let clock = ContinuousClock(), start = clock.now
        #expect(try waker.sleep(&q0, timeout: .milliseconds(50)) == .timedOut)
        #expect(clock.now - start >= .milliseconds(40))
        #expect(waker.wakes(queue: 0) == 0 && waker.wakes(queue: 1) == 0)
    }
}

nonisolated(unsafe) var dummyBatch = PacketBatch(capacity: 1)
