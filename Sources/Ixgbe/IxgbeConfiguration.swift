import IntelNIC
import UIO

/// Which member of the ixgbe family a PCI device ID names. The two share the register
/// layout this driver uses; they differ in how the link comes up.
public enum IxgbeFamily: String, Sendable, Equatable {
    /// 82599 (and 82599EN): the MAC's own link, set up through AUTOC (datasheet §4.6.4).
    case i82599 = "82599"
    /// X540: an internal 10GBASE-T PHY that negotiates by itself; AUTOC is left alone.
    case x540 = "X540"

    /// 82599 family IDs, the X540-T and X540-T1 (Linux `ixgbe_type.h`, `IXGBE_DEV_ID_*`).
    public static let i82599DeviceIDs: Set<UInt16> = [0x10FB, 0x10F7, 0x10F8, 0x10F9, 0x10FC, 0x1514, 0x1517, 0x151C, 0x154D, 0x1557]
    public static let x540DeviceIDs: Set<UInt16> = [0x1528, 0x1560]
    /// The 82599 SFP+ ports among them (Linux `ixgbe_get_media_type_82599`: fiber): the only
    /// ones whose link mode the driver sets. KX4, KR, CX4, backplane and XAUI boards keep
    /// the AUTOC their EEPROM loaded, which matches how they are wired.
    public static let sfpDeviceIDs: Set<UInt16> = [0x10FB, 0x154D, 0x1557]

    public init?(deviceID: UInt16) {
        if Self.i82599DeviceIDs.contains(deviceID) { self = .i82599 } else if Self.x540DeviceIDs.contains(deviceID) { self = .x540 } else { return nil }
    }

    /// The family of an Intel device, or `UIOError.unsupportedDevice`.
    public static func require(vendor: UInt16, device: UInt16) throws -> IxgbeFamily {
        guard vendor == DriverRegistry.intelVendor, let family = IxgbeFamily(deviceID: device) else {
            throw UIOError.unsupportedDevice(vendor: vendor, device: device)
        }
        return family
    }
}

/// How `IxgbeDevice` sets the device up: queues (1…64 of each; RSS spreads flows over
/// queues 0…15, the redirection table's entries having 4 bits, and queues beyond 15 are for
/// applications that program filters themselves), ring and pool sizes, the interrupt
/// throttle (EITR, 2 µs steps, 0…1022 µs) and the link wait. See `IntelConfiguration`.
public typealias IxgbeConfiguration = IntelConfiguration<IxgbeLimits>

/// The 82599's and X540's limits: 64 RX and 64 TX queues as this driver sets them up, rings
/// of 64…4096 descriptors, EITR intervals up to 1022 µs.
public enum IxgbeLimits: IntelFamilyLimits {
    /// "ixgbe".
    public static var driverName: String { "ixgbe" }
    /// 64 of each.
    public static var maximumQueues: Int { 64 }
    /// EITR's interval field (2 µs steps), in µs.
    public static var maximumThrottleMicroseconds: Int { 1022 }
}
