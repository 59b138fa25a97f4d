import Testing
import UIO
import UIOSimulator
@testable import VirtioNet

/// A frame whose length is beyond its buffer must never reach a TX descriptor: the device
/// would read past the buffer and put the next buffer's bytes on the wire. The length setters
/// refuse such a length (see `PacketLengthTests`), so these tests write the header directly, as
/// a driver bug or unsafe code could.
@Suite struct TransmitLengthTests {
    /// Buffers from the NIC's pool holding `frames`; `oversize` frames then get length 4000 on
    /// 1,920-byte buffers (their first bytes say which frame they were).
    static func batch(_ nic: borrowing SimulatedVirtioNIC, _ frames: [[UInt8]], oversize: Set<Int>) throws -> PacketBatch {
        var batch = PacketBatch(capacity: 64)
        for (i, frame) in frames.enumerated() {
            let buffer = try #require(nic.device.mempool.unsafeAllocateHeader())
            PacketBufferHeader.data(buffer).copyMemory(from: frame, byteCount: frame.count)
            buffer.pointee.storedLength = oversize.contains(i) ? 4000 : UInt32(frame.count)
            batch.unsafeAppend(buffer)
        }
        return batch
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func aFrameLongerThanItsBufferIsRefusedCountedAndFreed(layout: VirtioNetModel.Layout) throws {
        var nic = try SimulatedVirtioNIC(layout: layout)
        let poolBefore = nic.device.mempool.available
        let capacity = nic.device.mempool.dataCapacity
        #expect(capacity == 1920)
        let frames = (0..<6).map { testFrame($0, size: 60 + 10 * $0) }
        // The first, two in the middle side by side, and the last.
        let oversize: Set<Int> = [0, 2, 3, 5]
        var batch = try Self.batch(nic, frames, oversize: oversize)
        #expect(nic.device.transmit(queue: 0, from: &batch) == 6, "every frame leaves the batch, sent or refused")
        let emptied = batch.isEmpty
        #expect(emptied)
        _ = nic.model.step()
        // Only the frames that fit went out, whole: no byte from beyond a buffer.
        #expect(nic.model.takeTransmitted() == [frames[1], frames[4]])
        let s = nic.device.statistics()
        #expect(s.txOversize == 4)
        #expect(s.txPackets == 2)
        #expect(s.txBytes == UInt64(frames[1].count + frames[4].count))
        _ = nic.device.transmit(queue: 0, from: &batch)   // reclaims what the device sent
        #expect(nic.device.mempool.available == poolBefore, "refused buffers go back to the pool")
        // The ring carries on: a batch of good frames afterwards goes out in order.
        var again = try Self.batch(nic, Array(frames.prefix(3)), oversize: [])
        #expect(nic.device.transmit(queue: 0, from: &again) == 3)
        _ = nic.model.step()
        #expect(nic.model.takeTransmitted() == Array(frames.prefix(3)))
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
    }

    /// The ring's own posting, in order and (after `leaveInOrder`) any order, with the header
    /// in the buffer's headroom and in a descriptor of its own: it stops before the first
    /// over-long frame and writes nothing for it.
    @Test(arguments: [1, 2], [true, false])
    func postingStopsBeforeAnOverlongFrame(chainLength: Int, inOrder: Bool) throws {
        let dma = SimulatedDMA()
        let pool = try Mempool(count: 16, allocator: dma)
        var queue = try SplitVirtqueue(size: 16, chainLength: chainLength, allocator: dma)
        queue.prepareDescriptors(headerLength: 12, rxDataLength: nil)
        if !inOrder { queue.leaveInOrder() }
        let slots = UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>.allocate(capacity: 4)
        defer { slots.deallocate() }
        for i in 0..<4 {
            slots[i] = try #require(pool.unsafeAllocateHeader())
            slots[i].pointee.storedLength = i == 2 ? UInt32(pool.dataCapacity + 1) : 100
        }
        let freeBefore = queue.freeCount
        let first = queue.postTransmitBuffers(from: slots, count: 4)
        #expect(first.posted == 2 && first.bytes == 200)
        #expect(queue.freeCount == freeBefore - 2)
        #expect(queue.availableIndex == 2)
        // The last frame, posted on its own, takes the next chain.
        let rest = queue.postTransmitBuffers(from: slots + 3, count: 1)
        #expect(rest.posted == 1 && rest.bytes == 100)
        #expect(queue.availableIndex == 3)
        // A length of exactly the capacity is allowed.
        slots[2].pointee.storedLength = UInt32(pool.dataCapacity)
        #expect(queue.postTransmitBuffers(from: slots + 2, count: 1).posted == 1)
        queue.destroy(allocator: dma)   // frees the four posted buffers
        #expect(pool.available == 16)
        #expect(pool.destroy(using: dma))
    }
}
