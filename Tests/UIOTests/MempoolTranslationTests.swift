import Glibc
import Testing
@testable import UIO

/// Plain memory whose "physical" address is the virtual one plus a fixed offset, counting the
/// translations it is asked for.
final class CountingAllocator: DMAAllocator, @unchecked Sendable {
    let contiguousBlockSize: Int
    var translations = 0
    static let offset: UInt64 = 0x7_0000_0000

    init(blockSize: Int) { contiguousBlockSize = blockSize }

    func allocate(size: Int, contiguous: Bool) throws -> DMARegion {
        var pointer: UnsafeMutableRawPointer?
        #expect(posix_memalign(&pointer, contiguousBlockSize, size) == 0)
        let region = try #require(pointer)
        return DMARegion(virtualAddress: region, physicalAddress: UInt64(UInt(bitPattern: region)) + Self.offset, size: size)
    }

    func physicalAddress(of pointer: UnsafeRawPointer) throws -> UInt64 {
        translations += 1
        return UInt64(UInt(bitPattern: pointer)) + Self.offset
    }

    func free(_ region: DMARegion) { Glibc.free(region.virtualAddress) }
}

struct MempoolTranslationTests {
    /// Start-up cost: one lookup per physically contiguous block, not one per buffer.
    @Test func translatesOncePerContiguousBlock() throws {
        let allocator = CountingAllocator(blockSize: 64 << 10)
        let pool = try Mempool(count: 256, bufferSize: 2048, allocator: allocator)   // 512 KiB
        defer { #expect(pool.destroy(using: allocator)) }
        #expect(allocator.translations == 8)
        for index in 0..<256 {
            let header = pool.header(at: index)
            #expect(header.pointee.slotPhysicalAddress == UInt64(UInt(bitPattern: header)) + CountingAllocator.offset)
        }
    }

    /// Buffers larger than the block: each buffer is translated on its own.
    @Test func buffersLargerThanABlockAreEachTranslated() throws {
        let allocator = CountingAllocator(blockSize: 4096)
        let pool = try Mempool(count: 4, bufferSize: 8192, allocator: allocator)
        defer { #expect(pool.destroy(using: allocator)) }
        #expect(allocator.translations == 4)
    }
}
