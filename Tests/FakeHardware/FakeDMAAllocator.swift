import UIO
#if canImport(Glibc)
import Glibc
#endif

/// Plain page-aligned memory whose "physical" address is its virtual address, so that a test
/// can follow the addresses a driver writes into registers and descriptors; the ledger holds
/// what is still allocated (a test of a driver's teardown expects it empty).
public struct FakeDMAAllocator: DMAAllocator {
    public final class Ledger { public var outstanding: Set<UInt> = [] }
    public let ledger = Ledger()

    public init() {}

    public func allocate(size: Int, contiguous: Bool) throws -> DMARegion {
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, 4096, size) == 0, let pointer else {
            throw UIOError.device("posix_memalign(\(size)) failed")
        }
        memset(pointer, 0, size)
        ledger.outstanding.insert(UInt(bitPattern: pointer))
        return DMARegion(virtualAddress: pointer, physicalAddress: UInt64(UInt(bitPattern: pointer)), size: size)
    }

    public func physicalAddress(of pointer: UnsafeRawPointer) throws -> UInt64 { UInt64(UInt(bitPattern: pointer)) }

    public func free(_ region: DMARegion) {
        ledger.outstanding.remove(UInt(bitPattern: region.virtualAddress))
        Glibc.free(region.virtualAddress)
    }
}
