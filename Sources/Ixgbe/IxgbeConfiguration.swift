import IntelNIC
import UIO

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
