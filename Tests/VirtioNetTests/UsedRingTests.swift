import Testing
import UIO
import UIOSimulator
@testable import VirtioNet

/// `SplitVirtqueue.takeUsed` against a used ring written by hand, as a buggy or hostile
/// device could write it: ids out of range, ids that head no chain, ids returned twice.
@Suite struct UsedRingTests {
    /// Writes `elements` (id, len) into the used ring after the ones already taken, then `used.idx`.
    func returnUsed(_ queue: SplitVirtqueue, _ elements: [(id: UInt32, length: UInt32)]) {
        var index = Int(queue.lastUsedIndex)
        for (id, length) in elements {
            let element = queue.used + 4 + 8 * (index & queue.mask)
            element.storeBytes(of: id, as: UInt32.self)
            element.storeBytes(of: length, toByteOffset: 4, as: UInt32.self)
            index += 1
        }
        queue.used.storeBytes(of: UInt16(truncatingIfNeeded: index), toByteOffset: 2, as: UInt16.self)
    }

    @Test(arguments: [1, 2])
    func bogusIdsAreSkippedAndNoBufferIsTakenTwice(chainLength: Int) throws {
        let dma = SimulatedDMA()
        let pool = try Mempool(count: 16, allocator: dma)
        var queue = try SplitVirtqueue(size: 8, chainLength: chainLength, allocator: dma)
        queue.prepareDescriptors(headerLength: 12, rxDataLength: pool.dataCapacity)
        let chains = 8 / chainLength
        #expect(queue.postReceiveBuffers(from: pool) == chains)
        #expect(queue.freeCount == 0)

        // The first chain is posted at descriptor 0. 8 and 1000 are out of range; 1 heads no
        // chain when chains are two descriptors long; 0 comes back twice.
        let bogus: [(id: UInt32, length: UInt32)] = chainLength == 2 ? [(8, 60), (1000, 60), (1, 60)] : [(8, 60), (1000, 60)]
        returnUsed(queue, bogus + [(0, 72), (0, 72)])
        var taken: [UnsafeMutablePointer<PacketBufferHeader>] = []
        var lengths: [Int] = []
        let n = queue.takeUsed(limit: 32) { buffer, written in taken.append(buffer); lengths.append(written) }
        #expect(n == 1)
        #expect(lengths == [72])
        #expect(queue.freeCount == 1)
        #expect(queue.lastUsedIndex == UInt16(bogus.count + 2))
        #expect(!queue.hasUsed)
        taken.forEach(Mempool.unsafeFree)

        // The freed chain is posted again; all buffers go back to the pool exactly once.
        #expect(queue.postReceiveBuffers(from: pool) == 1)
        queue.destroy(allocator: dma)
        #expect(pool.available == 16)
        #expect(pool.destroy(using: dma))
    }

    @Test func takesAcrossTheEndOfTheRingInOrder() throws {
        let dma = SimulatedDMA()
        let pool = try Mempool(count: 16, allocator: dma)
        var queue = try SplitVirtqueue(size: 4, chainLength: 1, allocator: dma)
        queue.prepareDescriptors(headerLength: 12, rxDataLength: pool.dataCapacity)
        // Three of the four chains come back each round, so the used and available positions
        // move by three and every few rounds a take or a refill runs across the ring's end.
        for round in 0..<8 {
            _ = queue.postReceiveBuffers(from: pool)
            #expect(queue.freeCount == 0)
            let kept = UInt32(round % 4)
            let returned = (0..<4).map(UInt32.init).filter { $0 != kept }.reversed()
            let expected = (0..<3).map { 100 * round + $0 }
            returnUsed(queue, zip(returned, expected).map { (id: $0, length: UInt32($1)) })
            var lengths: [Int] = []
            let limit = round.isMultiple(of: 2) ? 2 : 8
            var n = queue.takeUsed(limit: limit) { b, len in Mempool.unsafeFree(b); lengths.append(len) }
            n += queue.takeUsed(limit: 8) { b, len in Mempool.unsafeFree(b); lengths.append(len) }
            #expect(n == 3)
            #expect(lengths == expected, "round \(round)")
        }
        queue.destroy(allocator: dma)
        #expect(pool.destroy(using: dma))
    }
}
