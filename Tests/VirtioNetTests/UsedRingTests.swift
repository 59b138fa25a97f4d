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

    /// A receive ring of `size` descriptors filled from a pool of `buffers`, for `body`; then
    /// the ring is destroyed, and every buffer must be back in the pool, exactly once.
    func withRXRing(size: Int, chainLength: Int, buffers: Int,
                    _ body: (inout SplitVirtqueue, Mempool) throws -> Void) throws {
        let dma = SimulatedDMA()
        let pool = try Mempool(count: buffers, allocator: dma)
        var queue = try SplitVirtqueue(size: size, chainLength: chainLength, allocator: dma)
        queue.prepareDescriptors(headerLength: 12, rxDataLength: pool.dataCapacity)
        try body(&queue, pool)
        queue.destroy(allocator: dma)
        #expect(pool.available == buffers)
        #expect(pool.destroy(using: dma))
    }

    /// Calls `takeUsed` until the used ring is drained (bounded): a call may stop early where
    /// the ring leaves the in-order fast path.
    func takeAll(_ queue: inout SplitVirtqueue, limit: Int = 32,
                 _ consume: (UnsafeMutablePointer<PacketBufferHeader>, Int) -> Void) -> Int {
        var total = 0
        for _ in 0..<4 where queue.hasUsed { total += queue.takeUsed(limit: limit, consume) }
        return total
    }

    /// The available ring's entries, as the device reads them.
    func availableEntries(_ queue: SplitVirtqueue) -> [UInt16] {
        (0..<queue.size).map { queue.available.load(fromByteOffset: 4 + 2 * $0, as: UInt16.self) }
    }

    @Test(arguments: [1, 2])
    func bogusIdsAreSkippedAndNoBufferIsTakenTwice(chainLength: Int) throws {
        try withRXRing(size: 8, chainLength: chainLength, buffers: 16) { (queue: inout SplitVirtqueue, pool: Mempool) in
            let chains = 8 / chainLength
            #expect(queue.postReceiveBuffers(from: pool) == chains)
            #expect(queue.freeCount == 0)

            // The first chain is posted at descriptor 0. 8 and 1000 are out of range; 1 heads no
            // chain when chains are two descriptors long; 0 comes back twice.
            let bogus: [(id: UInt32, length: UInt32)] = chainLength == 2 ? [(8, 60), (1000, 60), (1, 60)] : [(8, 60), (1000, 60)]
            returnUsed(queue, bogus + [(0, 72), (0, 72)])
            var taken: [UnsafeMutablePointer<PacketBufferHeader>] = []
            var lengths: [Int] = []
            // The first bogus id ends the in-order fast path (that call takes nothing); the next
            // call takes the rest the any-order way.
            let n = takeAll(&queue) { buffer, written in taken.append(buffer); lengths.append(written) }
            #expect(!queue.inOrder)
            #expect(n == 1)
            #expect(lengths == [72])
            #expect(queue.freeCount == 1)
            #expect(queue.lastUsedIndex == UInt16(bogus.count + 2))
            #expect(!queue.hasUsed)
            taken.forEach(Mempool.unsafeFree)

            // The freed chain is posted again; all buffers go back to the pool exactly once.
            #expect(queue.postReceiveBuffers(from: pool) == 1)
        }
    }

    @Test func takesAcrossTheEndOfTheRingInOrder() throws {
        try withRXRing(size: 4, chainLength: 1, buffers: 16) { (queue: inout SplitVirtqueue, pool: Mempool) in
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
        }
    }

    /// As QEMU returns them: in order, across the ring's end many times. The ring stays on the
    /// fast path, never writes the available ring after `init`, and gives every buffer back.
    @Test(arguments: [1, 2])
    func inOrderReturnsStayOnTheFastPath(chainLength: Int) throws {
        try withRXRing(size: 8, chainLength: chainLength, buffers: 64) { (queue: inout SplitVirtqueue, pool: Mempool) in
            let entries = availableEntries(queue)
            #expect(entries == (0..<8).map { UInt16(($0 % (8 / chainLength)) * chainLength) })
            var posted: [UnsafeMutablePointer<PacketBufferHeader>] = []
            var next = 0
            for round in 0..<20 {
                _ = queue.postReceiveBuffers(from: pool)
                // What this round posted, in ring order: the heads of the positions just filled.
                let count = queue.outstanding - (posted.count - next)
                for k in 0..<count {
                    let position = Int(queue.availableIndex) - count + k
                    posted.append(queue.buffers[(position % (8 / chainLength)) * chainLength]!)
                }
                // The device uses 1 to 3 chains, in order, with lengths that name the round.
                let used = 1 + round % 3
                let start = Int(queue.lastUsedIndex)
                returnUsed(queue, (0..<used).map { k in
                    (id: UInt32(((start + k) % (8 / chainLength)) * chainLength), length: UInt32(100 * round + k + 12))
                })
                var lengths: [Int] = []
                var taken: [UnsafeMutablePointer<PacketBufferHeader>] = []
                #expect(queue.takeUsed(limit: 32) { b, len in taken.append(b); lengths.append(len) } == used)
                #expect(lengths == (0..<used).map { 100 * round + $0 + 12 })
                #expect(taken == Array(posted[next..<(next + used)]), "round \(round): the buffers posted at those positions")
                next += used
                taken.forEach(Mempool.unsafeFree)
            }
            #expect(queue.inOrder)
            #expect(availableEntries(queue) == entries)
            // What the device still holds goes back to the pool on destroy, each buffer once.
        }
    }

    /// A device that starts in order and then returns chains out of order: the ring takes the
    /// in-order part, moves to the any-order bookkeeping at the first stray id, and from then
    /// on posts into exactly the chains that came back, writing the available ring.
    @Test(arguments: [1, 2])
    func anOutOfOrderReturnMovesTheRingToAnyOrderWithoutLosingABuffer(chainLength: Int) throws {
        let chains = 8 / chainLength
        try withRXRing(size: 8, chainLength: chainLength, buffers: 32) { (queue: inout SplitVirtqueue, pool: Mempool) in
            #expect(queue.postReceiveBuffers(from: pool) == chains)
            let head = { (chain: Int) in UInt32(chain * chainLength) }
            let buffers = (0..<chains).map { queue.buffers[$0 * chainLength]! }
            // Chains 0 and 1 in order, then the last chain before chain 2.
            returnUsed(queue, [(head(0), 20), (head(1), 21), (head(chains - 1), 22), (head(2), 23)])
            var taken: [UnsafeMutablePointer<PacketBufferHeader>] = []
            var lengths: [Int] = []
            #expect(queue.takeUsed(limit: 32) { b, len in taken.append(b); lengths.append(len) } == 2)
            #expect(!queue.inOrder)
            #expect(queue.freeCount == 2)
            #expect(queue.takeUsed(limit: 32) { b, len in taken.append(b); lengths.append(len) } == 2)
            #expect(lengths == [20, 21, 22, 23])
            #expect(taken == [buffers[0], buffers[1], buffers[chains - 1], buffers[2]])
            #expect(queue.freeCount == 4)
            taken.forEach(Mempool.unsafeFree)

            // The four free chains are posted again, and the available ring names them.
            let availableBefore = Int(queue.availableIndex)
            #expect(queue.postReceiveBuffers(from: pool) == 4)
            let named = Set((0..<4).map { queue.available.load(fromByteOffset: 4 + 2 * ((availableBefore + $0) % 8), as: UInt16.self) })
            #expect(named == Set([0, 1, 2, chains - 1].map { UInt16(head($0)) }))
            // Every chain is posted; the device returns all of them, in any order; all come back once.
            let all = (0..<chains).map { head($0) }.reversed()
            returnUsed(queue, all.map { (id: $0, length: 30) })
            var second: [UnsafeMutablePointer<PacketBufferHeader>] = []
            #expect(takeAll(&queue) { b, _ in second.append(b) } == chains)
            #expect(Set(second).count == chains)
            second.forEach(Mempool.unsafeFree)
        }
    }

    /// A used index beyond what was posted cannot be in order: nothing is taken on the fast
    /// path, and the any-order path skips the elements that name no posted chain.
    @Test func aUsedIndexBeyondWhatWasPostedIsNotTrusted() throws {
        try withRXRing(size: 8, chainLength: 1, buffers: 16) { (queue: inout SplitVirtqueue, pool: Mempool) in
            #expect(queue.postReceiveBuffers(from: pool) == 8)
            var taken: [UnsafeMutablePointer<PacketBufferHeader>] = []
            returnUsed(queue, [(0, 60), (1, 60)])
            #expect(queue.takeUsed(limit: 32) { b, _ in taken.append(b) } == 2)
            Mempool.unsafeFree(taken[0]); Mempool.unsafeFree(taken[1])
            // Two chains are free (0 and 1); the device claims three more, the third repeating 2.
            returnUsed(queue, [(2, 60), (3, 60), (2, 60)])
            queue.used.storeBytes(of: UInt16(2 + 8), toByteOffset: 2, as: UInt16.self)
            taken = []
            #expect(queue.takeUsed(limit: 32) { b, _ in taken.append(b) } == 0)
            #expect(!queue.inOrder)
            _ = takeAll(&queue) { b, _ in taken.append(b) }
            #expect(Set(taken).count == taken.count, "no buffer taken twice")
            taken.forEach(Mempool.unsafeFree)
        }
    }
}
