#if canImport(Glibc)
import Glibc
#endif

/// A PCI function's configuration space through the sysfs `config` file.
///
/// Reads past the first 64 bytes, and all writes, need root (or a group given access by udev).
/// The file is kept open for the life of the value so that re-arming INTx costs two syscalls.
public struct PCIConfigSpace: ~Copyable {
    public let path: String
    private let fd: CInt

    public init(path: String) throws {
        self.path = path
        var fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 && (errno == EACCES || errno == EPERM) { fd = open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: path) }
        self.fd = fd
    }

    public init(address: PCIAddress, sysfs: Sysfs = .live) throws {
        try self.init(path: sysfs.path("/sys/bus/pci/devices/\(address)/config"))
    }

    deinit { close(fd) }

    public func read<T: FixedWidthInteger>(_ type: T.Type = T.self, at offset: Int) throws -> T {
        var value: T = 0
        let n = withUnsafeMutableBytes(of: &value) { pread(fd, $0.baseAddress, MemoryLayout<T>.size, off_t(offset)) }
        guard n == MemoryLayout<T>.size else { throw UIOError.fromErrno("pread config at \(offset) of", path: path) }
        return T(littleEndian: value)
    }

    public func write<T: FixedWidthInteger>(_ value: T, at offset: Int) throws {
        var le = value.littleEndian
        let n = withUnsafeBytes(of: &le) { pwrite(fd, $0.baseAddress, MemoryLayout<T>.size, off_t(offset)) }
        guard n == MemoryLayout<T>.size else { throw UIOError.fromErrno("pwrite config at \(offset) of", path: path) }
    }
}

/// Offsets and bits of the standard configuration header (PCI Local Bus Spec 3.0 §6.2).
public enum PCIConfig {
    public static let command = 0x04
    public static let status = 0x06
    public static let capabilitiesPointer = 0x34
    public static let commandIOSpace: UInt16 = 1 << 0
    public static let commandMemorySpace: UInt16 = 1 << 1
    public static let commandBusMaster: UInt16 = 1 << 2
    /// Interrupt Disable: masks INTx. uio_pci_generic sets it in its IRQ handler.
    public static let commandInterruptDisable: UInt16 = 1 << 10
    public static let statusCapabilitiesList: UInt16 = 1 << 4
    public static let capabilityVendorSpecific: UInt8 = 0x09
}

extension PCIConfigSpace {
    /// Sets bits in PCI_COMMAND, for example to enable bus mastering and decoding.
    public func setCommandBits(_ bits: UInt16) throws {
        let command: UInt16 = try read(at: PCIConfig.command)
        if command & bits != bits { try write(command | bits, at: PCIConfig.command) }
    }

    public func clearCommandBits(_ bits: UInt16) throws {
        let command: UInt16 = try read(at: PCIConfig.command)
        if command & bits != 0 { try write(command & ~bits, at: PCIConfig.command) }
    }
}
