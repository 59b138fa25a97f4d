import IntelNIC
import UIO

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
