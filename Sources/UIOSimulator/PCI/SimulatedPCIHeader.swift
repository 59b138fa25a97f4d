/// What a simulated function's configuration space says about it: identity, BARs and
/// capabilities (PCI Local Bus Spec 3.0 §6.2, type 0 header).
public struct SimulatedPCIHeader: Sendable {
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var revisionID: UInt8
    /// Base class, subclass and programming interface (0x02, 0x00, 0x00: Ethernet controller).
    public var classCode: (base: UInt8, sub: UInt8, programmingInterface: UInt8)
    public var subsystemVendorID: UInt16
    public var subsystemID: UInt16
    /// BAR 0...5. A 64-bit BAR takes two slots: put it at the lower index, leave the upper nil.
    public var bars: [SimulatedBAR?]
    /// In the order they are added; see `SimulatedConfigSpace` for where they land.
    public var capabilities: [SimulatedCapability]
    /// 1 = INTA#. uio_pci_generic needs a pin: it refuses functions without INTx.
    public var interruptPin: UInt8 = 1
    public var interruptLine: UInt8 = 11

    public init(vendorID: UInt16, deviceID: UInt16, revisionID: UInt8,
                classCode: (base: UInt8, sub: UInt8, programmingInterface: UInt8),
                subsystemVendorID: UInt16, subsystemID: UInt16,
                bars: [SimulatedBAR?], capabilities: [SimulatedCapability] = []) {
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.revisionID = revisionID
        self.classCode = classCode
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.bars = bars + Array(repeating: nil, count: max(0, 6 - bars.count))
        self.capabilities = capabilities
    }
}

/// One base address register: what kind of space, where the "host" put it, and its size.
public struct SimulatedBAR: Sendable, Equatable {
    /// Memory (32- or 64-bit) or I/O ports, as the BAR's low bits say.
    public enum Kind: Sendable, Equatable {
        case ioPorts
        case memory32
        case memory64(prefetchable: Bool)
    }

    public var kind: Kind
    /// The address the BAR register reads back (an I/O port number, or a bus address).
    public var base: UInt64
    public var size: Int

    public init(kind: Kind, base: UInt64, size: Int) {
        self.kind = kind
        self.base = base
        self.size = size
    }

    /// The low dword of the BAR register (PCI 3.0 §6.2.5.1): base | type bits.
    var registerLow: UInt32 {
        switch kind {
        case .ioPorts: return UInt32(truncatingIfNeeded: base) & ~0x3 | 0x1
        case .memory32: return UInt32(truncatingIfNeeded: base) & ~0xf
        case .memory64(let prefetchable): return UInt32(truncatingIfNeeded: base) & ~0xf | 0x4 | (prefetchable ? 0x8 : 0)
        }
    }
}

/// A capability: its ID and the bytes after the two-byte (ID, next) header.
public struct SimulatedCapability: Sendable, Equatable {
    public var id: UInt8
    public var body: [UInt8]

    public init(id: UInt8, body: [UInt8]) {
        self.id = id
        self.body = body
    }
}
