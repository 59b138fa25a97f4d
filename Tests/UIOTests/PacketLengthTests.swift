import FakeHardware
import Testing
import UIO

/// A packet's length can never be set past its buffer: the bytes after it belong to the next
/// buffer, and a transmit would put them on the wire. Setting one traps, as an array
/// subscript out of range does (exit tests: the trap happens in a child process).
@Suite struct PacketLengthTests {
    @Test func aLengthUpToTheCapacityIsKept() throws {
        let allocator = FakeDMAAllocator()
        let pool = try Mempool(count: 4, bufferSize: 2048, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        guard let buffer = pool.allocate() else { Issue.record("the pool is empty"); return }
        let capacity = buffer.capacity, stored = buffer.header.pointee.dataCapacity
        #expect(capacity == 2048 - PacketBufferHeader.dataOffset)
        #expect(stored == 1920)
        buffer.length = 1920
        let full = buffer.length, viewed = buffer.view.bytes.count
        #expect(full == 1920 && viewed == 1920)
        buffer.view.length = 0
        let emptied = buffer.length
        #expect(emptied == 0)
        // Each pool's buffers know their own size (a batch may mix pools).
        let small = try Mempool(count: 2, bufferSize: 256, allocator: allocator)
        defer { #expect(small.destroy(using: allocator)) }
        guard let other = small.allocate() else { Issue.record("the pool is empty"); return }
        let smallCapacity = other.capacity
        #expect(smallCapacity == 128)
    }

    @Test func aBufferLengthPastTheCapacityTraps() async {
        await #expect(processExitsWith: .failure) {
            let allocator = FakeDMAAllocator()
            let pool = try Mempool(count: 4, allocator: allocator)
            let buffer = pool.allocate()!
            buffer.length = 4000   // a 1,920-byte buffer
        }
    }

    @Test func aViewLengthPastTheCapacityTraps() async {
        await #expect(processExitsWith: .failure) {
            let allocator = FakeDMAAllocator()
            let pool = try Mempool(count: 4, allocator: allocator)
            let buffer = pool.allocate()!
            buffer.view.length = 1921
        }
    }

    @Test func aNegativeLengthTraps() async {
        await #expect(processExitsWith: .failure) {
            let allocator = FakeDMAAllocator()
            let pool = try Mempool(count: 4, allocator: allocator)
            let buffer = pool.allocate()!
            buffer.length = -1
        }
    }
}
