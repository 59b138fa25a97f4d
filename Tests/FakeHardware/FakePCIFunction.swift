import UIO

/// A PCI function for driver unit tests: a 256-byte config space in memory and a register file
/// of the test's own as BAR0. The Intel driver tests (igb, ixgbe) each bring their register
/// file, which plays just enough of its device.
public struct FakePCIFunction<Registers: RegisterAccess>: PCIFunction {
    public let registers: Registers
    public let config = Config()
    public let address: PCIAddress
    public let vendorID: UInt16
    public let deviceID: UInt16

    /// The config space, and how often the driver re-armed the interrupt line.
    public final class Config {
        public var bytes = [UInt8](repeating: 0, count: 256)
        public var rearmCount = 0
        public var command: UInt16 { UInt16(bytes[4]) | UInt16(bytes[5]) << 8 }
    }

    public init(registers: Registers, address: PCIAddress, vendorID: UInt16 = 0x8086, deviceID: UInt16) {
        self.registers = registers
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
    }

    public func readConfig<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
        var value: UInt64 = 0
        for i in 0..<MemoryLayout<T>.size { value |= UInt64(config.bytes[offset + i]) << (8 * UInt64(i)) }
        return T(truncatingIfNeeded: value)
    }

    public func writeConfig<T: FixedWidthInteger>(_ value: T, at offset: Int) throws {
        for i in 0..<MemoryLayout<T>.size { config.bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    public mutating func mapBAR(_ index: Int) throws -> Registers {
        guard index == 0 else { throw UIOError.noSuchBAR(address, index: index) }
        return registers
    }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? { nil }
    public mutating func rearmInterrupt() throws { config.rearmCount += 1 }
}
