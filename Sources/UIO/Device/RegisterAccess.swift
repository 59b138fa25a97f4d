/// Access to a device's registers: a mapped BAR, an I/O-port range, or a simulated model.
///
/// Drivers are generic over this protocol, so that the same driver code runs, specialised,
/// against real hardware and against the device models of `UIOSimulator`.
/// Offsets are in bytes from the start of the region. Values are little-endian on the wire,
/// which on x86 is the native order.
public protocol RegisterAccess {
    func read8(_ offset: Int) -> UInt8
    func read16(_ offset: Int) -> UInt16
    func read32(_ offset: Int) -> UInt32
    func write8(_ offset: Int, _ value: UInt8)
    func write16(_ offset: Int, _ value: UInt16)
    func write32(_ offset: Int, _ value: UInt32)
}

extension RegisterAccess {
    /// Two 32-bit accesses, low half first (ixgbe's 64-bit counters and queue addresses).
    @inlinable public func read64(_ offset: Int) -> UInt64 {
        UInt64(read32(offset)) | UInt64(read32(offset + 4)) << 32
    }

    @inlinable public func write64(_ offset: Int, _ value: UInt64) {
        write32(offset, UInt32(truncatingIfNeeded: value))
        write32(offset + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    @inlinable public func setBits32(_ offset: Int, _ bits: UInt32) { write32(offset, read32(offset) | bits) }
    @inlinable public func clearBits32(_ offset: Int, _ bits: UInt32) { write32(offset, read32(offset) & ~bits) }
}
