import CUIOShim
#if canImport(Glibc)
import Glibc
#endif

/// A mapped BAR, whichever way it was reached. This is the register type drivers use on real hardware.
///
/// A plain value (a pointer, a port number or a descriptor): copying it costs nothing and
/// involves no reference counting. It stays valid while the `UIOPCIDevice` that made it lives.
@frozen
public struct DeviceRegion: RegisterAccess, Sendable {
    /// How the region's registers are reached: mapped memory, port instructions, or a sysfs file.
    @frozen
    public enum Backing: Sendable, Equatable {
        /// MMIO through a UIO map or sysfs `resourceN`: volatile loads and stores.
        case memory(UInt)
        /// I/O ports after ioperm(): `in`/`out` instructions, no syscall.
        case ports(base: UInt16)
        /// Registers through pread/pwrite at `base` + offset: I/O ports through sysfs
        /// `resourceN` (sizes 1, 2 and 4 only), or a VFIO region of the device fd that
        /// cannot be mmapped (`base` is the region's offset in that fd).
        case file(descriptor: CInt, base: Int64 = 0)
    }

    public let backing: Backing
    public let size: Int

    public init(backing: Backing, size: Int) {
        self.backing = backing
        self.size = size
    }

    @inlinable var base: UnsafeMutableRawPointer {
        guard case .memory(let address) = backing else { preconditionFailure("not an MMIO region") }
        return UnsafeMutableRawPointer(bitPattern: address).unsafelyUnwrapped
    }

    @inlinable public func read8(_ offset: Int) -> UInt8 {
        switch backing {
        case .memory: return uio_mmio_read8(base + offset)
        case .ports(let port): return uio_inb(port &+ UInt16(truncatingIfNeeded: offset))
        case .file(let fd, let base): return fileRead(fd, base &+ Int64(offset))
        }
    }

    @inlinable public func read16(_ offset: Int) -> UInt16 {
        switch backing {
        case .memory: return uio_mmio_read16(base + offset)
        case .ports(let port): return uio_inw(port &+ UInt16(truncatingIfNeeded: offset))
        case .file(let fd, let base): return fileRead(fd, base &+ Int64(offset))
        }
    }

    @inlinable public func read32(_ offset: Int) -> UInt32 {
        switch backing {
        case .memory: return uio_mmio_read32(base + offset)
        case .ports(let port): return uio_inl(port &+ UInt16(truncatingIfNeeded: offset))
        case .file(let fd, let base): return fileRead(fd, base &+ Int64(offset))
        }
    }

    @inlinable public func write8(_ offset: Int, _ value: UInt8) {
        switch backing {
        case .memory: uio_mmio_write8(base + offset, value)
        case .ports(let port): uio_outb(port &+ UInt16(truncatingIfNeeded: offset), value)
        case .file(let fd, let base): fileWrite(fd, base &+ Int64(offset), value)
        }
    }

    @inlinable public func write16(_ offset: Int, _ value: UInt16) {
        switch backing {
        case .memory: uio_mmio_write16(base + offset, value)
        case .ports(let port): uio_outw(port &+ UInt16(truncatingIfNeeded: offset), value)
        case .file(let fd, let base): fileWrite(fd, base &+ Int64(offset), value)
        }
    }

    @inlinable public func write32(_ offset: Int, _ value: UInt32) {
        switch backing {
        case .memory: uio_mmio_write32(base + offset, value)
        case .ports(let port): uio_outl(port &+ UInt16(truncatingIfNeeded: offset), value)
        case .file(let fd, let base): fileWrite(fd, base &+ Int64(offset), value)
        }
    }

    /// A failed pread reads as all ones, as a PCI master abort does.
    @usableFromInline func fileRead<T: FixedWidthInteger>(_ fd: CInt, _ offset: Int64) -> T {
        var value: T = 0
        let n = withUnsafeMutableBytes(of: &value) { pread(fd, $0.baseAddress, MemoryLayout<T>.size, off_t(offset)) }
        return n == MemoryLayout<T>.size ? T(littleEndian: value) : ~0
    }

    @usableFromInline func fileWrite<T: FixedWidthInteger>(_ fd: CInt, _ offset: Int64, _ value: T) {
        var le = value.littleEndian
        _ = withUnsafeBytes(of: &le) { pwrite(fd, $0.baseAddress, MemoryLayout<T>.size, off_t(offset)) }
    }
}

/// CPU barriers for descriptor rings shared with a device.
public enum MemoryBarrier {
    /// Descriptor stores are visible to the device before a doorbell write that follows.
    @inlinable public static func write() { uio_write_barrier() }
    /// A descriptor's status is read before the fields it guards.
    @inlinable public static func read() { uio_read_barrier() }
    @inlinable public static func full() { uio_full_barrier() }
}
