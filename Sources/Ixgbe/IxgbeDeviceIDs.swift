import UIO

/// The PCI IDs this driver accepts: the one place to add one. Everything else reads it: the
/// driver's own check (`IxgbeFamily.require`), the link set-up (which ports are SFP+), the
/// registry in `UIODevices` that `uioctl list` and the opener use, and the tests that hold the
/// simulator's 82599 model against it.
public enum IxgbeDeviceIDs {
    /// Intel.
    public static let vendorID: UInt16 = 0x8086

    /// Linux `ixgbe_type.h` (`IXGBE_DEV_ID_*`); `sfp` as `ixgbe_get_media_type_82599` answers
    /// fiber. Add a device as one line here.
    public static let supported: [IxgbeDeviceID] = [
        IxgbeDeviceID(0x10F7, "82599 KX4", .i82599),
        IxgbeDeviceID(0x10F8, "82599 combined backplane", .i82599),
        IxgbeDeviceID(0x10F9, "82599 CX4", .i82599),
        IxgbeDeviceID(0x10FB, "82599 SFP+", .i82599, sfp: true),
        IxgbeDeviceID(0x10FC, "82599 XAUI", .i82599),
        IxgbeDeviceID(0x1514, "82599 KX4 mezzanine", .i82599),
        IxgbeDeviceID(0x1517, "82599 KR", .i82599),
        IxgbeDeviceID(0x151C, "82599 T3 LOM", .i82599),
        IxgbeDeviceID(0x1529, "82599 SFP+ FCoE", .i82599, sfp: true),
        IxgbeDeviceID(0x154D, "82599 SFP+ SF2", .i82599, sfp: true),
        IxgbeDeviceID(0x1557, "82599EN SFP+", .i82599, sfp: true),
        IxgbeDeviceID(0x1528, "X540-T", .x540),
        IxgbeDeviceID(0x1560, "X540-T1", .x540),
    ]

    /// The entry for a vendor and device ID, or nil if this driver does not drive it.
    public static func entry(vendor: UInt16, device: UInt16) -> IxgbeDeviceID? {
        vendor == vendorID ? byDeviceID[device] : nil
    }

    static let byDeviceID = Dictionary(uniqueKeysWithValues: supported.map { ($0.deviceID, $0) })
}

/// One row of `IxgbeDeviceIDs.supported`: a device ID, its name, and what the driver must know
/// about the board behind it.
public struct IxgbeDeviceID: Sendable, Equatable {
    /// The PCI device ID.
    public let deviceID: UInt16
    /// How `uioctl list` names it.
    public let name: String
    /// Which member of the family it is, which says how the link comes up.
    public let family: IxgbeFamily
    /// An 82599 SFP+ port (Linux `ixgbe_get_media_type_82599`: fiber): the only ports whose
    /// link mode the driver sets. KX4, KR, CX4, backplane and XAUI boards keep the AUTOC their
    /// EEPROM loaded, which matches how they are wired.
    public let sfp: Bool

    /// A table row.
    public init(_ deviceID: UInt16, _ name: String, _ family: IxgbeFamily, sfp: Bool = false) {
        self.deviceID = deviceID
        self.name = name
        self.family = family
        self.sfp = sfp
    }
}

/// Which member of the ixgbe family a PCI device ID names. The two share the register
/// layout this driver uses; they differ in how the link comes up.
public enum IxgbeFamily: String, Sendable, Equatable {
    /// 82599 (and 82599EN): the MAC's own link, set up through AUTOC (datasheet §4.6.4).
    case i82599 = "82599"
    /// X540: an internal 10GBASE-T PHY that negotiates by itself; AUTOC is left alone.
    case x540 = "X540"

    /// The 82599 family's IDs in `IxgbeDeviceIDs.supported`.
    public static let i82599DeviceIDs = deviceIDs { $0.family == .i82599 }
    /// The X540's IDs in `IxgbeDeviceIDs.supported`.
    public static let x540DeviceIDs = deviceIDs { $0.family == .x540 }
    /// The SFP+ ports in `IxgbeDeviceIDs.supported` (see `IxgbeDeviceID.sfp`).
    public static let sfpDeviceIDs = deviceIDs { $0.sfp }

    static func deviceIDs(where matches: (IxgbeDeviceID) -> Bool) -> Set<UInt16> {
        Set(IxgbeDeviceIDs.supported.filter(matches).map(\.deviceID))
    }

    /// The family of an Intel device ID in `IxgbeDeviceIDs.supported`, or nil.
    public init?(deviceID: UInt16) {
        guard let entry = IxgbeDeviceIDs.entry(vendor: IxgbeDeviceIDs.vendorID, device: deviceID) else { return nil }
        self = entry.family
    }

    /// The family of an Intel device, or `UIOError.unsupportedDevice`.
    public static func require(vendor: UInt16, device: UInt16) throws -> IxgbeFamily {
        guard let entry = IxgbeDeviceIDs.entry(vendor: vendor, device: device) else {
            throw UIOError.unsupportedDevice(vendor: vendor, device: device)
        }
        return entry.family
    }
}
