import UIO

/// The PCI IDs this driver accepts: the one place to add one. The driver's own check
/// (`IgbPart.require`) and the registry in `UIODevices` (the opener, `uioctl list`) read it.
public enum IgbDeviceIDs {
    /// Intel.
    public static let vendorID: UInt16 = 0x8086

    /// 82576 (Linux `e1000_hw.h`, `E1000_DEV_ID_82576*`). The virtual function (0x10CA) is
    /// not a PF and is not here. Add a device as one line here.
    public static let supported: [IgbDeviceID] = [
        IgbDeviceID(0x10C9, "82576", .copper),
        IgbDeviceID(0x10E6, "82576 fiber", .serdes),
        IgbDeviceID(0x10E7, "82576 SerDes", .serdes),
        IgbDeviceID(0x10E8, "82576 quad copper", .copper),
        IgbDeviceID(0x1526, "82576 quad copper ET2", .copper),
        IgbDeviceID(0x150A, "82576NS", .copper),
        IgbDeviceID(0x1518, "82576NS SerDes", .serdes),
        IgbDeviceID(0x150D, "82576 SerDes quad", .serdes),
    ]

    /// The entry for a vendor and device ID, or nil if this driver does not drive it.
    public static func entry(vendor: UInt16, device: UInt16) -> IgbDeviceID? {
        vendor == vendorID ? byDeviceID[device] : nil
    }

    static let byDeviceID = Dictionary(uniqueKeysWithValues: supported.map { ($0.deviceID, $0) })
}

/// One row of `IgbDeviceIDs.supported`: a device ID, its name and how the part reaches the wire.
public struct IgbDeviceID: Sendable, Equatable {
    /// The PCI device ID.
    public let deviceID: UInt16
    /// How `uioctl list` names it.
    public let name: String
    /// The internal copper PHY or SerDes/fibre.
    public let part: IgbPart

    /// A table row.
    public init(_ deviceID: UInt16, _ name: String, _ part: IgbPart) {
        self.deviceID = deviceID
        self.name = name
        self.part = part
    }
}

/// Whether an 82576 reaches the wire through the internal copper PHY or through SerDes/fibre,
/// by PCI device ID (see `IgbDeviceIDs`).
public enum IgbPart: Sendable, Equatable {
    case copper
    case serdes

    /// `IgbDeviceIDs.supported` by device ID, as name and part.
    public static let deviceIDs: [UInt16: (name: String, part: IgbPart)] =
        IgbDeviceIDs.byDeviceID.mapValues { (name: $0.name, part: $0.part) }

    /// The part of an Intel device, or `UIOError.unsupportedDevice`.
    public static func require(vendor: UInt16, device: UInt16) throws -> IgbPart {
        guard let entry = IgbDeviceIDs.entry(vendor: vendor, device: device) else {
            throw UIOError.unsupportedDevice(vendor: vendor, device: device)
        }
        return entry.part
    }
}
