import IntelNIC
import UIO

/// The 82576 parts this driver accepts, by PCI device ID (Linux `e1000_hw.h`,
/// `E1000_DEV_ID_82576*`), and whether each reaches the wire through the internal copper
/// PHY or through SerDes/fibre. The virtual function (0x10CA) is not a PF and is refused.
public enum IgbPart: Sendable, Equatable {
    case copper
    case serdes

    public static let deviceIDs: [UInt16: (name: String, part: IgbPart)] = [
        0x10C9: ("82576", .copper),
        0x10E6: ("82576 fiber", .serdes),
        0x10E7: ("82576 SerDes", .serdes),
        0x10E8: ("82576 quad copper", .copper),
        0x1526: ("82576 quad copper ET2", .copper),
        0x150A: ("82576NS", .copper),
        0x1518: ("82576NS SerDes", .serdes),
        0x150D: ("82576 SerDes quad", .serdes),
    ]

    /// The part of an Intel device, or `UIOError.unsupportedDevice`.
    public static func require(vendor: UInt16, device: UInt16) throws -> IgbPart {
        guard vendor == DriverRegistry.intelVendor, let entry = deviceIDs[device] else {
            throw UIOError.unsupportedDevice(vendor: vendor, device: device)
        }
        return entry.part
    }
}

/// How `IgbDevice` sets the device up: queues (1…16 of each), ring and pool sizes, the
/// interrupt throttle (EITR[0], which throttles INTx: 0…8191 µs) and the link wait (the
/// PHY's auto-negotiation). See `IntelConfiguration`.
public typealias IgbConfiguration = IntelConfiguration<IgbLimits>

/// The 82576's limits: 16 RX and 16 TX queues, rings of 64…4096 descriptors (RDLEN is a
/// multiple of 128 bytes), EITR intervals up to 8191 µs.
public enum IgbLimits: IntelFamilyLimits {
    /// "igb".
    public static var driverName: String { "igb" }
    /// 16 of each.
    public static var maximumQueues: Int { 16 }
    /// EITR's interval field, in µs.
    public static var maximumThrottleMicroseconds: Int { 8191 }
}
