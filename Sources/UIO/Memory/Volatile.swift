import CUIOShim

/// Volatile loads and stores on memory a device writes by DMA (ring indices, status words):
/// the compiler must re-read them every time, never cache them in a register.
public enum Volatile {
    @inlinable public static func load16(_ p: UnsafeRawPointer) -> UInt16 { uio_mmio_read16(p) }
    @inlinable public static func load32(_ p: UnsafeRawPointer) -> UInt32 { uio_mmio_read32(p) }
    @inlinable public static func load64(_ p: UnsafeRawPointer) -> UInt64 { uio_mmio_read64(p) }
    @inlinable public static func store16(_ p: UnsafeMutableRawPointer, _ v: UInt16) { uio_mmio_write16(p, v) }
    @inlinable public static func store32(_ p: UnsafeMutableRawPointer, _ v: UInt32) { uio_mmio_write32(p, v) }
    @inlinable public static func store64(_ p: UnsafeMutableRawPointer, _ v: UInt64) { uio_mmio_write64(p, v) }
}
