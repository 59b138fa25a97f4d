import Testing
@testable import UIO

/// Real hugepages and /proc/self/pagemap. Serialized to keep peak hugepage use small,
/// since other test runs on the machine share the same pool.
@Suite(.serialized, .enabled(if: Hugepages.usable, Hugepages.skipReason))
struct HugepageAllocatorTests {
    let allocator = HugepageAllocator()

    @Test func allocatesAPinned2MiBAlignedRegion() throws {
        let region = try allocator.allocate(size: 4096, contiguous: true)
        defer { allocator.free(region) }
        #expect(region.size == HugepageAllocator.hugepageSize)
        #expect(region.physicalAddress != 0)
        #expect(region.physicalAddress % UInt64(HugepageAllocator.hugepageSize) == 0)
        #expect(UInt(bitPattern: region.virtualAddress) % UInt(HugepageAllocator.hugepageSize) == 0)
        // Zeroed, and writable.
        let bytes = region.virtualAddress.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[0] == 0 && bytes[region.size - 1] == 0)
        bytes[100] = 0xab
        #expect(bytes[100] == 0xab)
    }

    @Test func physicalAddressesInsideAHugepageAreBasePlusOffset() throws {
        let region = try allocator.allocate(size: HugepageAllocator.hugepageSize, contiguous: true)
        defer { allocator.free(region) }
        for offset in [0, 1, 4095, 4096, 12345, 1 << 20, HugepageAllocator.hugepageSize - 1] {
            #expect(try allocator.physicalAddress(of: region.virtualAddress + offset) == region.physicalAddress + UInt64(offset))
        }
    }

    @Test func aContiguousRegionMustFitOneHugepage() {
        #expect(throws: UIOError.notContiguous(size: 3 << 20)) {
            _ = try allocator.allocate(size: 3 << 20, contiguous: true)
        }
    }

    @Test func aLargerRegionSpansWholeHugepages() throws {
        let region = try allocator.allocate(size: (2 << 20) + 1, contiguous: false)
        defer { allocator.free(region) }
        #expect(region.size == 4 << 20)
        // Each hugepage is contiguous on its own; the second starts on a 2 MiB boundary too.
        let second = try allocator.physicalAddress(of: region.virtualAddress + HugepageAllocator.hugepageSize)
        #expect(second % UInt64(HugepageAllocator.hugepageSize) == 0)
    }
}
