import Synchronization
import UIO

/// The 256-byte configuration space of a simulated PCI function.
///
/// Built once from a `SimulatedPCIHeader`. Only what a user-space driver may change is
/// writable: PCI_COMMAND bits 0–2 (decoding, Bus Master) and bit 10 (Interrupt Disable,
/// kept in the interrupt line) and the Interrupt Line byte. Everything else ignores writes,
/// as read-only hardware registers do. PCI status bit 3 (Interrupt Status) reads the level.
public final class SimulatedConfigSpace: Sendable {
    public static let size = 256
    /// Where capabilities start, after the 64-byte standard header.
    static let capabilitiesStart = 0x40
    static let statusInterrupt: UInt16 = 1 << 3
    static let writableCommandBits = PCIConfig.commandIOSpace | PCIConfig.commandMemorySpace | PCIConfig.commandBusMaster
    static let interruptLineOffset = 0x3c

    public let header: SimulatedPCIHeader
    public let interruptLine: SimulatedInterruptLine
    private let bytes: Mutex<[UInt8]>

    /// Lays out `header`. Capabilities are placed upwards from 0x40 in the order given, and
    /// each new one is linked at the head of the list, as QEMU's `pci_add_capability` does:
    /// a walk visits them last-added first. Drivers must not depend on the order.
    public init(header: SimulatedPCIHeader, interruptLine: SimulatedInterruptLine) {
        self.header = header
        self.interruptLine = interruptLine
        var b = [UInt8](repeating: 0, count: Self.size)
        func put16(_ v: UInt16, _ at: Int) { b[at] = UInt8(v & 0xff); b[at + 1] = UInt8(v >> 8) }
        func put32(_ v: UInt32, _ at: Int) { put16(UInt16(v & 0xffff), at); put16(UInt16(v >> 16), at + 2) }
        put16(header.vendorID, 0x00)
        put16(header.deviceID, 0x02)
        // The kernel enabled decoding when it bound the driver (pci_enable_device); Bus Master
        // stays off until the user-space driver turns it on.
        put16(PCIConfig.commandIOSpace | PCIConfig.commandMemorySpace, PCIConfig.command)
        b[0x08] = header.revisionID
        b[0x09] = header.classCode.programmingInterface
        b[0x0a] = header.classCode.sub
        b[0x0b] = header.classCode.base
        b[0x0e] = 0  // header type 0, single function
        for (i, bar) in header.bars.prefix(6).enumerated() {
            guard let bar else { continue }
            put32(bar.registerLow, 0x10 + 4 * i)
            if case .memory64 = bar.kind, i < 5 { put32(UInt32(truncatingIfNeeded: bar.base >> 32), 0x14 + 4 * i) }
        }
        put16(header.subsystemVendorID, 0x2c)
        put16(header.subsystemID, 0x2e)
        b[Self.interruptLineOffset] = header.interruptLine
        b[0x3d] = header.interruptPin
        var offset = Self.capabilitiesStart
        var head = 0
        for capability in header.capabilities {
            let length = 2 + capability.body.count
            precondition(offset + length <= Self.size, "capabilities do not fit in 256 bytes of config space")
            b[offset] = capability.id
            b[offset + 1] = UInt8(head)
            b.replaceSubrange(offset + 2 ..< offset + length, with: capability.body)
            head = offset
            offset = (offset + length + 3) & ~3
        }
        if head != 0 {
            b[PCIConfig.capabilitiesPointer] = UInt8(head)
            put16(PCIConfig.statusCapabilitiesList, PCIConfig.status)
        }
        bytes = Mutex(b)
    }

    public func read<T: FixedWidthInteger>(_ type: T.Type = T.self, at offset: Int) throws -> T {
        let width = MemoryLayout<T>.size
        try checkRange(offset, width)
        let masked = interruptLine.isMasked
        let asserted = interruptLine.isAsserted
        let value: UInt64 = bytes.withLock { b in
            var value: UInt64 = 0
            for i in 0..<width {
                var byte = b[offset + i]
                // Compose the live bits: command bit 10 is byte 5 bit 2, status bit 3 is byte 6 bit 3.
                if offset + i == PCIConfig.command + 1 && masked { byte |= UInt8(PCIConfig.commandInterruptDisable >> 8) }
                if offset + i == PCIConfig.status && asserted { byte |= UInt8(Self.statusInterrupt) }
                value |= UInt64(byte) << (8 * i)
            }
            return value
        }
        return T(truncatingIfNeeded: value)
    }

    public func write<T: FixedWidthInteger>(_ value: T, at offset: Int) throws {
        let width = MemoryLayout<T>.size
        try checkRange(offset, width)
        let raw = UInt64(truncatingIfNeeded: value)
        var newMask: Bool?
        bytes.withLock { b in
            for i in 0..<width {
                let byte = UInt8(truncatingIfNeeded: raw >> (8 * i))
                switch offset + i {
                case PCIConfig.command:
                    b[PCIConfig.command] = byte & UInt8(Self.writableCommandBits)
                case PCIConfig.command + 1:
                    newMask = byte & UInt8(PCIConfig.commandInterruptDisable >> 8) != 0
                case Self.interruptLineOffset:
                    b[Self.interruptLineOffset] = byte
                default:
                    break  // read-only
                }
            }
        }
        // Outside the lock: unmasking may deliver a pending interrupt.
        if let newMask { interruptLine.setMasked(newMask) }
    }

    /// PCI_COMMAND bit 2. Models check it before every DMA, as a bus master must be enabled to
    /// reach memory (and uio_pci_generic clears it when `/dev/uioN` is closed).
    public var busMasterEnabled: Bool {
        bytes.withLock { UInt16($0[PCIConfig.command]) & PCIConfig.commandBusMaster != 0 }
    }

    func clearBusMaster() {
        bytes.withLock { $0[PCIConfig.command] &= ~UInt8(PCIConfig.commandBusMaster) }
    }

    private func checkRange(_ offset: Int, _ width: Int) throws {
        guard offset >= 0, offset + width <= Self.size else {
            throw UIOError.device("simulated config space access of \(width) bytes at \(offset) is outside its 256 bytes")
        }
    }
}
