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

/// How `IxgbeDevice` sets the device up.
public struct IxgbeConfiguration: Sendable, Equatable {
    /// RX queues (1…64). With more than one, RSS spreads flows over queues 0…15 (the
    /// redirection table's entries have 4 bits); queues beyond 15 are for applications that
    /// program filters themselves. With one, every frame lands in queue 0.
    public var rxQueues = 1
    /// TX queues (1…64).
    public var txQueues = 1
    /// Descriptors per ring: a power of two, 64…4096.
    public var ringSize = 512
    /// Buffers in each RX queue's mempool: the ring, frames held by the application and
    /// frames in flight on TX. At least `ringSize`; twice that or more is better.
    public var mempoolSize = 4096
    /// Minimum interval between interrupts (EITR, 2 µs steps, 0…1022; 0: no throttling).
    public var interruptThrottleMicroseconds = 10
    /// How long `init` waits for the link. A link still down afterwards is not an error:
    /// `link` reports it and a link-change interrupt updates it later.
    public var linkTimeout: Duration = .seconds(10)

    public static let minimumRingSize = 64
    public static let maximumRingSize = 4096
    public static let maximumQueues = 64
    public static let maximumThrottleMicroseconds = 1022

    public init() {}

    public init(rxQueues: Int = 1, txQueues: Int = 1, ringSize: Int = 512, mempoolSize: Int = 4096,
                interruptThrottleMicroseconds: Int = 10, linkTimeout: Duration = .seconds(10)) {
        self.rxQueues = rxQueues
        self.txQueues = txQueues
        self.ringSize = ringSize
        self.mempoolSize = mempoolSize
        self.interruptThrottleMicroseconds = interruptThrottleMicroseconds
        self.linkTimeout = linkTimeout
    }

    /// Throws the first problem found, with what to change.
    public func validate() throws {
        try IntelConfigurationCheck.validate(
            driver: "ixgbe", rxQueues: rxQueues, txQueues: txQueues, maximumQueues: Self.maximumQueues,
            ringSize: ringSize, mempoolSize: mempoolSize, interruptThrottleMicroseconds: interruptThrottleMicroseconds,
            maximumThrottleMicroseconds: Self.maximumThrottleMicroseconds, linkTimeout: linkTimeout,
            minimumRingSize: Self.minimumRingSize, maximumRingSize: Self.maximumRingSize)
    }
}
