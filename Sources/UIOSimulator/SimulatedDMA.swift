import Synchronization
import UIO
#if canImport(Glibc)
import Glibc
#endif

/// DMA memory for simulated devices: plain page-aligned memory with made-up physical addresses.
///
/// Drivers use it exactly like `HugepageAllocator`; device models call `translate` to reach
/// the memory a driver names by physical address. An address this allocator never gave out
/// translates to nil, so a model reports a DMA fault where real hardware would scribble on
/// (or read from) some random page.
///
/// The value is a handle: copies share the same memory map.
public struct SimulatedDMA: DMAAllocator, Sendable {
    /// Physical addresses start above 4 GiB, so a driver that truncates one to 32 bits gets an
    /// address that does not translate, instead of one that happens to work.
    public static let defaultPhysicalBase: UInt64 = 0x1_0000_0000
    /// Regions are placed on 2 MiB boundaries with an unmapped 2 MiB gap after each one, so
    /// that running off the end of a region is a fault, not a hit in the next region.
    static let regionAlignment: UInt64 = 2 << 20
    static let pageSize = 4096

    private let map: SimulatedMemoryMap

    public init(physicalBase: UInt64 = SimulatedDMA.defaultPhysicalBase) {
        map = SimulatedMemoryMap(physicalBase: physicalBase)
    }

    /// Zeroed, page-aligned memory. Every region is "physically contiguous", so `contiguous`
    /// needs no special handling.
    public func allocate(size: Int, contiguous: Bool) throws -> DMARegion {
        guard size > 0 else { throw UIOError.device("simulated DMA: cannot allocate \(size) bytes; ask for at least 1") }
        let length = (size + Self.pageSize - 1) & ~(Self.pageSize - 1)
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, Self.pageSize, length) == 0, let pointer else {
            throw UIOError.device("simulated DMA: posix_memalign of \(length) bytes failed (out of memory)")
        }
        memset(pointer, 0, length)
        let physical = map.insert(virtual: pointer, length: length)
        return DMARegion(virtualAddress: pointer, physicalAddress: physical, size: length)
    }

    public func physicalAddress(of pointer: UnsafeRawPointer) throws -> UInt64 {
        guard let physical = map.physical(of: UInt(bitPattern: pointer)) else {
            throw UIOError.device("simulated DMA: \(pointer) is not in memory this SimulatedDMA allocated")
        }
        return physical
    }

    public func free(_ region: DMARegion) {
        if map.remove(virtual: region.virtualAddress) { Glibc.free(region.virtualAddress) }
    }

    /// The memory behind `length` bytes at `physical`, or nil unless all of them lie inside one
    /// live region. This is the device side of DMA: models call it, drivers never do.
    public func translate(physical: UInt64, length: Int) -> UnsafeMutableRawPointer? {
        map.virtual(of: physical, length: length).flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Bytes currently allocated (for leak checks in tests).
    public var bytesAllocated: Int { map.bytesAllocated }
}

/// The table behind `SimulatedDMA`: which physical range maps to which memory.
/// Locked, because a model's background thread translates while a test allocates.
final class SimulatedMemoryMap: Sendable {
    struct Region {
        var virtual: UInt
        var physical: UInt64
        var length: Int
    }

    struct State {
        var regions: [Region] = []
        var nextPhysical: UInt64
    }

    private let state: Mutex<State>

    init(physicalBase: UInt64) {
        state = Mutex(State(nextPhysical: physicalBase))
    }

    func insert(virtual: UnsafeMutableRawPointer, length: Int) -> UInt64 {
        state.withLock { s in
            let physical = s.nextPhysical
            let span = (UInt64(length) + SimulatedDMA.regionAlignment - 1) & ~(SimulatedDMA.regionAlignment - 1)
            s.nextPhysical = physical + span + SimulatedDMA.regionAlignment
            s.regions.append(Region(virtual: UInt(bitPattern: virtual), physical: physical, length: length))
            return physical
        }
    }

    func remove(virtual: UnsafeMutableRawPointer) -> Bool {
        state.withLock { s in
            guard let i = s.regions.firstIndex(where: { $0.virtual == UInt(bitPattern: virtual) }) else { return false }
            s.regions.remove(at: i)
            return true
        }
    }

    func physical(of virtual: UInt) -> UInt64? {
        state.withLock { s in
            for r in s.regions where virtual >= r.virtual && virtual < r.virtual + UInt(r.length) {
                return r.physical + UInt64(virtual - r.virtual)
            }
            return nil
        }
    }

    func virtual(of physical: UInt64, length: Int) -> UInt? {
        guard length >= 0 else { return nil }
        return state.withLock { s in
            for r in s.regions where physical >= r.physical && physical - r.physical <= UInt64(r.length) {
                let offset = physical - r.physical
                guard offset + UInt64(length) <= UInt64(r.length) else { return nil }
                return r.virtual + UInt(offset)
            }
            return nil
        }
    }

    var bytesAllocated: Int { state.withLock { $0.regions.reduce(0) { $0 + $1.length } } }
}
