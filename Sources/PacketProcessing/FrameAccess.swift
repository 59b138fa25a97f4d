/// Big-endian field access on a frame in memory (network byte order).
@usableFromInline
struct Frame {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @inlinable func u8(_ at: Int) -> UInt8 { base.load(fromByteOffset: at, as: UInt8.self) }
    @inlinable func u16(_ at: Int) -> UInt16 { UInt16(u8(at)) << 8 | UInt16(u8(at + 1)) }
    @inlinable func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
    @inlinable func set8(_ at: Int, _ v: UInt8) { base.storeBytes(of: v, toByteOffset: at, as: UInt8.self) }
    @inlinable func set16(_ at: Int, _ v: UInt16) { set8(at, UInt8(v >> 8)); set8(at + 1, UInt8(truncatingIfNeeded: v)) }
    @inlinable func set32(_ at: Int, _ v: UInt32) { set16(at, UInt16(v >> 16)); set16(at + 2, UInt16(truncatingIfNeeded: v)) }
    /// Swaps `count` bytes at `a` with those at `b` (addresses, ports).
    @inlinable func swap(_ a: Int, _ b: Int, count: Int) {
        for i in 0..<count { let t = u8(a + i); set8(a + i, u8(b + i)); set8(b + i, t) }
    }
    @inlinable func copy(from: Int, to: Int, count: Int) {
        for i in 0..<count { set8(to + i, u8(from + i)) }
    }
}
