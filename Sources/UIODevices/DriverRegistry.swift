import Igb
import Ixgbe
import UIO
import VirtioNet

/// Which swift-uio driver handles a PCI vendor and device ID, and how to describe the device.
///
/// It holds no IDs of its own: it reads each driver's table (`VirtioNetDeviceIDs`,
/// `IxgbeDeviceIDs`, `IgbDeviceIDs`), so a device ID added there is known to the opener,
/// `uioctl list`, `status` and `doctor` at once.
public enum DriverRegistry {
    /// The virtio vendor ID (`VirtioNetDeviceIDs.vendorID`).
    public static let virtioVendor = VirtioNetDeviceIDs.vendorID
    /// Intel's vendor ID (`IxgbeDeviceIDs.vendorID`, `IgbDeviceIDs.vendorID`).
    public static let intelVendor = IxgbeDeviceIDs.vendorID

    /// Each driver with its vendor and its device IDs' names, in the order the registry asks them.
    static let drivers: [(kind: DriverKind, vendor: UInt16, names: [UInt16: String])] = [
        (.virtioNet, VirtioNetDeviceIDs.vendorID, names(VirtioNetDeviceIDs.supported.map { ($0.deviceID, $0.name) })),
        (.ixgbe, IxgbeDeviceIDs.vendorID, names(IxgbeDeviceIDs.supported.map { ($0.deviceID, $0.name) })),
        (.igb, IgbDeviceIDs.vendorID, names(IgbDeviceIDs.supported.map { ($0.deviceID, $0.name) })),
    ]

    /// A table's rows by device ID; a device ID listed twice in one table traps here, at the first
    /// use of the registry (a test opens it), rather than naming one of its two rows at random.
    static func names(_ rows: [(UInt16, String)]) -> [UInt16: String] {
        Dictionary(uniqueKeysWithValues: rows)
    }

    /// virtio-net's device IDs and names (`VirtioNetDeviceIDs.supported`).
    public static var virtioNetDevices: [UInt16: String] { devices(of: .virtioNet) }
    /// ixgbe's device IDs and names (`IxgbeDeviceIDs.supported`).
    public static var ixgbeDevices: [UInt16: String] { devices(of: .ixgbe) }
    /// igb's device IDs and names (`IgbDeviceIDs.supported`).
    public static var igbDevices: [UInt16: String] { devices(of: .igb) }

    /// The device IDs and names that `kind` drives.
    public static func devices(of kind: DriverKind) -> [UInt16: String] {
        drivers.first { $0.kind == kind }?.names ?? [:]
    }

    /// The driver for a vendor and device ID, or nil if no swift-uio driver drives it.
    public static func driver(vendor: UInt16, device: UInt16) -> DriverKind? {
        drivers.first { $0.vendor == vendor && $0.names[device] != nil }?.kind
    }

    /// The device's name in its driver's table (as `uioctl list` shows it), or nil.
    public static func describe(vendor: UInt16, device: UInt16) -> String? {
        drivers.lazy.compactMap { $0.vendor == vendor ? $0.names[device] : nil }.first
    }

    /// The driver for a vendor and device ID, or `unsupported(vendor:device:)`.
    public static func require(vendor: UInt16, device: UInt16) throws -> DriverKind {
        guard let kind = driver(vendor: vendor, device: device) else {
            throw unsupported(vendor: vendor, device: device)
        }
        return kind
    }

    /// The error for a device no driver drives, listing every ID that one does.
    public static func unsupported(vendor: UInt16, device: UInt16) -> UIOError {
        .unsupportedDevice(vendor: vendor, device: device, supported: supportedSummary)
    }

    /// "virtio-net 1af4:1000/1041; ixgbe 8086:10f7/…; igb 8086:10c9/…".
    static var supportedSummary: String {
        drivers.map { driver in
            "\(driver.kind.rawValue) \(hex(driver.vendor)):" + driver.names.keys.sorted().map(hex).joined(separator: "/")
        }.joined(separator: "; ")
    }

    static func hex(_ id: UInt16) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
