/// Which swift-uio driver handles a PCI vendor and device ID.
///
/// The registry only names the driver: an application switches on the result and calls a
/// generic function with the concrete driver type, so no existential is ever created.
public enum DriverKind: String, Sendable, CaseIterable {
    case virtioNet = "virtio-net"
    case ixgbe = "ixgbe"
    case igb = "igb"
}

/// Which swift-uio driver handles a PCI vendor and device ID, and how to describe the device.
public enum DriverRegistry {
    public static let virtioVendor: UInt16 = 0x1af4
    public static let intelVendor: UInt16 = 0x8086

    /// virtio-net: transitional/legacy 0x1000, modern 0x1041 (virtio 1.0 §4.1.2).
    public static let virtioNetDevices: [UInt16: String] = [0x1000: "virtio-net (legacy/transitional)", 0x1041: "virtio-net (modern)"]

    /// 82599 family and X540 (ixgbe_type.h device IDs).
    public static let ixgbeDevices: [UInt16: String] = [
        0x10F7: "82599 KX4", 0x10F8: "82599 combined backplane", 0x10F9: "82599 CX4", 0x10FB: "82599 SFP+",
        0x10FC: "82599 XAUI", 0x1514: "82599 KX4 mezzanine", 0x1517: "82599 KR", 0x151C: "82599 T3 LOM",
        0x154D: "82599 SFP+ SF2", 0x1557: "82599EN SFP+", 0x1528: "X540-T", 0x1560: "X540-T1",
    ]

    /// 82576 (Linux `e1000_hw.h`, `E1000_DEV_ID_82576*`; the VF 0x10CA is not a PF).
    public static let igbDevices: [UInt16: String] = [
        0x10C9: "82576", 0x10E6: "82576 fiber", 0x10E7: "82576 SerDes", 0x10E8: "82576 quad copper",
        0x1526: "82576 quad copper ET2", 0x150A: "82576NS", 0x1518: "82576NS SerDes", 0x150D: "82576 SerDes quad",
    ]

    public static func driver(vendor: UInt16, device: UInt16) -> DriverKind? {
        switch vendor {
        case virtioVendor where virtioNetDevices[device] != nil: return .virtioNet
        case intelVendor where ixgbeDevices[device] != nil: return .ixgbe
        case intelVendor where igbDevices[device] != nil: return .igb
        default: return nil
        }
    }

    public static func describe(vendor: UInt16, device: UInt16) -> String? {
        switch vendor {
        case virtioVendor: return virtioNetDevices[device]
        case intelVendor: return ixgbeDevices[device] ?? igbDevices[device]
        default: return nil
        }
    }

    public static func require(vendor: UInt16, device: UInt16) throws -> DriverKind {
        guard let kind = driver(vendor: vendor, device: device) else {
            throw UIOError.unsupportedDevice(vendor: vendor, device: device)
        }
        return kind
    }

    static var supportedSummary: String {
        "virtio-net 1af4:1000/1041; ixgbe 8086:" + ixgbeDevices.keys.sorted().map { hex($0) }.joined(separator: "/")
            + "; igb 8086:" + igbDevices.keys.sorted().map { hex($0) }.joined(separator: "/")
    }
}
