import Testing
@testable import UIO

@Suite(.serialized, .enabled(if: Hugepages.usable, Hugepages.skipReason))
struct MempoolTests {
    let allocator = HugepageAllocator()

    @Test func allocatingPastTheEndReturnsNil() throws {
        let pool = try Mempool(count: 64, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        var headers: [UnsafeMutablePointer<PacketBufferHeader>] = []
        while let header = pool.unsafeAllocateHeader() { headers.append(header) }
        #expect(headers.count == 64)
        #expect(pool.available == 0)
        let exhausted = pool.allocate() == nil  // nil, not a crash
        #expect(exhausted)
        #expect(Set(headers.map(\.pointee.index)).count == 64)  // each buffer handed out once
        for header in headers { Mempool.unsafeFree(header) }
        #expect(pool.available == 64)
    }

    @Test func freeAndAllocateCyclesKeepTheCountExact() throws {
        let pool = try Mempool(count: 32, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        for round in 1...5 {
            var held: [UnsafeMutablePointer<PacketBufferHeader>] = []
            for i in 0..<(round * 6) {
                held.append(try #require(pool.unsafeAllocateHeader()))
                #expect(pool.available == 32 - i - 1)
            }
            for (i, header) in held.enumerated() {
                Mempool.unsafeFree(header)
                #expect(pool.available == 32 - held.count + i + 1)
            }
        }
        do {
            let buffer = try pool.requireBuffer()
            #expect(pool.available == 31)
            _ = consume buffer  // dropping a PacketBuffer returns it
        }
        #expect(pool.available == 32)
    }

    /// Spans two hugepages (2048 × 2 KiB = 4 MiB), so a wrong per-page translation shows.
    @Test func everyBufferKnowsItsPhysicalAddress() throws {
        let pool = try Mempool(count: 2048, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        var headers: [UnsafeMutablePointer<PacketBufferHeader>] = []
        while let header = pool.unsafeAllocateHeader() { headers.append(header) }
        defer { for header in headers { Mempool.unsafeFree(header) } }
        for header in headers {
            let pagemap = try allocator.physicalAddress(of: header)
            #expect(header.pointee.slotPhysicalAddress == pagemap)
            #expect(PacketView(header: header).physicalAddress == pagemap + UInt64(PacketBufferHeader.dataOffset))
        }
    }

    @Test func buffersCarryData() throws {
        let pool = try Mempool(count: 8, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        let buffer = try pool.requireBuffer()
        #expect(buffer.capacity == Mempool.defaultBufferSize - PacketBufferHeader.dataOffset)
        buffer.length = 4
        buffer.bytes.copyBytes(from: [1, 2, 3, 4])
        #expect(Array(buffer.view.bytes) == [1, 2, 3, 4])
    }

    @Test func destroyRefusesWhileBuffersAreOut() throws {
        let pool = try Mempool(count: 4, allocator: allocator)
        let header = try #require(pool.unsafeAllocateHeader())
        #expect(!pool.destroy(using: allocator))
        Mempool.unsafeFree(header)
        #expect(pool.destroy(using: allocator))
    }

    @Test func rejectsBadSizes() {
        #expect(throws: UIOError.self) { _ = try Mempool(count: 0, allocator: allocator) }
        #expect(throws: UIOError.self) { _ = try Mempool(count: 4, bufferSize: 3000, allocator: allocator) }
    }
}

@Suite(.serialized, .enabled(if: Hugepages.usable, Hugepages.skipReason))
struct PacketBatchTests {
    let allocator = HugepageAllocator()

    func packet(_ pool: Mempool, length: Int) throws -> PacketBuffer {
        let buffer = try pool.requireBuffer()
        buffer.length = length
        return buffer
    }

    @Test func keepsOrderAndPopsFromTheBack() throws {
        let pool = try Mempool(count: 16, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        var batch = PacketBatch(capacity: 4)
        for length in [10, 20, 30] { batch.append(try packet(pool, length: length)) }
        #expect(batch.count == 3 && batch.freeSpace == 1)
        #expect((0..<3).map { batch[$0].length } == [10, 20, 30])
        guard let last = batch.popLast() else { Issue.record("popLast() on a batch of 3 gave nil"); return }
        #expect(last.length == 30)
        #expect(batch.count == 2)
        _ = consume last
        #expect(pool.available == 14)
        batch.removeAll()
        #expect(pool.available == 16)
    }

    @Test func unsafeRemoveFirstHandsOverTheFrontAndKeepsTheRestInOrder() throws {
        let pool = try Mempool(count: 16, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        var batch = PacketBatch(capacity: 8)
        for length in 1...5 { batch.append(try packet(pool, length: length)) }
        // A transmit call takes the first two: it now owns them, the batch forgets them.
        let taken = [batch.unsafeHeader(at: 0), batch.unsafeHeader(at: 1)]
        batch.unsafeRemoveFirst(2)
        #expect((0..<batch.count).map { batch[$0].length } == [3, 4, 5])
        #expect(pool.available == 11)
        for header in taken { Mempool.unsafeFree(header) }
        #expect(pool.available == 13)
    }

    /// pktgen's refill: tops up to the target, never past the capacity or what the pool has,
    /// and hands out buffers with their old content and length (only what changes is written).
    @Test func fillTopsUpFromThePoolAndKeepsBufferContent() throws {
        let pool = try Mempool(count: 6, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        var batch = PacketBatch(capacity: 4)
        batch.append(try packet(pool, length: 60))
        var prepared: [Int] = []
        #expect(batch.fill(from: pool, upTo: 3) { prepared.append(Int($0.header.pointee.index)); $0.length = 42 } == 2)
        #expect(batch.count == 3 && prepared.count == 2 && pool.available == 3)
        #expect(Set(prepared).count == 2 && !prepared.contains(Int(batch.unsafeHeader(at: 0).pointee.index)))
        #expect((0..<3).map { batch[$0].length } == [60, 42, 42])
        #expect(batch.fill(from: pool, upTo: 2) { _ in Issue.record("nothing to add below the count") } == 0)
        // A target past the capacity stops at the capacity.
        #expect(batch.fill(from: pool, upTo: 100) { $0.length = 42 } == 1)
        #expect(batch.isFull && pool.available == 2)
        // Freed and taken again: the frame and length the last user left are still there.
        batch[3].data.storeBytes(of: 0xfeed_beef, as: UInt32.self)
        let marked = batch.unsafeHeader(at: 3)
        batch.removeAll()
        var again = PacketBatch(capacity: 8)
        // Only the pool's 6 buffers: fewer than the target.
        #expect(again.fill(from: pool, upTo: 8) { _ in } == 6)
        let reused = try #require((0..<again.count).first { again.unsafeHeader(at: $0) == marked })
        #expect(again[reused].data.load(as: UInt32.self) == 0xfeed_beef && again[reused].length == 42)
        #expect(pool.available == 0)
    }

    @Test func destroyingABatchFreesWhatItHolds() throws {
        let pool = try Mempool(count: 16, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        do {
            var batch = PacketBatch(capacity: 16)
            while !batch.isFull, let buffer = pool.allocate() { batch.append(buffer) }
            #expect(pool.available == 0)
            let exhausted = pool.allocate() == nil
            #expect(exhausted)
            _ = consume batch
        }
        #expect(pool.available == pool.capacity)
    }
}
