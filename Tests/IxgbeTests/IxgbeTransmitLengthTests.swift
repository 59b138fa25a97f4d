import Testing
import UIO
import UIOSimulator
@testable import Ixgbe

/// The ixgbe driver on the 82599 model: a frame whose length is beyond its buffer (written
/// into the header directly, as a driver bug or unsafe code could) is refused, counted and
/// freed, and never reaches a descriptor, so no byte from beyond a buffer goes on the wire.
@Suite struct IxgbeTransmitLengthTests {
    @Test func aFrameLongerThanItsBufferIsRefusedCountedAndFreed() throws {
        var nic = try SimulatedIxgbeNIC()
        let pool = nic.device.mempool(queue: 0)
        let before = pool.available
        let frames = (0..<5).map { ixgbeFrame($0, size: 60 + 20 * $0) }
        var batch = PacketBatch(capacity: 8)
        nic.append(frames, to: &batch)
        for i in [0, 2, 3] { batch.unsafeHeader(at: i).pointee.storedLength = 4000 }   // 1,920-byte buffers
        #expect(nic.device.transmit(queue: 0, from: &batch) == 5, "every frame leaves the batch, sent or refused")
        let emptied = batch.isEmpty
        #expect(emptied)
        #expect(pool.available == before - 2, "the three refused buffers are back; two are with the device")
        nic.model.step()
        #expect(nic.model.takeTransmitted() == [frames[1], frames[4]])
        let s = nic.device.statistics()
        #expect(s.txOversize == 3)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
        #expect(nic.device.statistics().txOversize == 3, "kept after shutdown")
    }

    /// Detached queue pairs count refusals in their own counter slot.
    @Test func aDetachedQueueCountsRefusalsInItsSlot() throws {
        var nic = try SimulatedIxgbeNIC()
        struct Send: QueueSetUser {
            let frames: [[UInt8]]
            let pool: Mempool
            var taken = 0, oversize: UInt64 = 0, slotOversize: UInt64 = 0
            mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws {
                let queue = queues.slot(0)
                var batch = PacketBatch(capacity: 4)
                for (i, frame) in frames.enumerated() {
                    let buffer = try #require(pool.unsafeAllocateHeader())
                    PacketBufferHeader.data(buffer).copyMemory(from: frame, byteCount: frame.count)
                    buffer.pointee.storedLength = i == 1 ? 3000 : UInt32(frame.count)
                    batch.unsafeAppend(buffer)
                }
                taken = queue.pointee.transmit(from: &batch)
                oversize = queue.pointee.statistics.txOversize
                slotOversize = device.queueStatistics(0).txOversize
            }
        }
        var send = Send(frames: [ixgbeFrame(1), ixgbeFrame(2), ixgbeFrame(3)], pool: nic.device.mempool(queue: 0))
        try nic.device.withDetachedQueues(&send)
        #expect(send.taken == 3)
        #expect(send.oversize == 1 && send.slotOversize == 1)
        nic.model.step()
        #expect(nic.model.takeTransmitted() == [ixgbeFrame(1), ixgbeFrame(3)])
        #expect(nic.device.statistics().txOversize == 1)
        nic.device.shutdown()
    }
}
