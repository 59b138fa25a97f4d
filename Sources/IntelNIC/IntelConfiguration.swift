import UIO

/// What an Intel family fixes about its configuration: the driver's name for messages, and
/// the limits of its queues, rings and interrupt throttle (each family's datasheet).
public protocol IntelFamilyLimits {
    /// "igb", "ixgbe": the driver's name, in error messages and `driverName`.
    static var driverName: String { get }
    /// RX and TX queues the device has of each.
    static var maximumQueues: Int { get }
    /// The largest interval EITR can hold, in µs.
    static var maximumThrottleMicroseconds: Int { get }
    /// The smallest ring the driver accepts (TX descriptors are cleaned 32 at a time).
    static var minimumRingSize: Int { get }
    /// The largest ring the device accepts.
    static var maximumRingSize: Int { get }
}

extension IntelFamilyLimits {
    /// 64 descriptors: two TX clean batches.
    public static var minimumRingSize: Int { 64 }
    /// 4096 descriptors, the igb and ixgbe maximum.
    public static var maximumRingSize: Int { 4096 }
}

/// How ``IntelDevice`` sets an Intel NIC up: queues, ring and pool sizes, the interrupt
/// throttle and the link wait, the same for every family, with the family's limits
/// (`IgbConfiguration` and `IxgbeConfiguration` are this type for igb and ixgbe).
public struct IntelConfiguration<Limits: IntelFamilyLimits>: Sendable, Equatable {
    /// RX queues (1…``maximumQueues``). With more than one, RSS spreads flows over them
    /// (over queues 0…15 at most: the redirection table's entries have 4 bits); with one,
    /// every frame lands in queue 0.
    public var rxQueues = 1
    /// TX queues (1…``maximumQueues``).
    public var txQueues = 1
    /// Descriptors per ring: a power of two, ``minimumRingSize``…``maximumRingSize``.
    public var ringSize = 512
    /// Buffers in each RX queue's mempool: the ring, frames held by the application and
    /// frames in flight on TX. At least `ringSize`; twice that or more is better.
    public var mempoolSize = 4096
    /// Minimum interval between interrupts (EITR; 0…``maximumThrottleMicroseconds``; 0: no
    /// throttling).
    public var interruptThrottleMicroseconds = 10
    /// How long `init` waits for the link. A link still down afterwards is not an error:
    /// `link` reports it and the link-change interrupt updates it later.
    public var linkTimeout: Duration = .seconds(10)

    /// The smallest ring (``IntelFamilyLimits/minimumRingSize``).
    public static var minimumRingSize: Int { Limits.minimumRingSize }
    /// The largest ring (``IntelFamilyLimits/maximumRingSize``).
    public static var maximumRingSize: Int { Limits.maximumRingSize }
    /// RX and TX queues the device has (``IntelFamilyLimits/maximumQueues``).
    public static var maximumQueues: Int { Limits.maximumQueues }
    /// The longest throttle (``IntelFamilyLimits/maximumThrottleMicroseconds``).
    public static var maximumThrottleMicroseconds: Int { Limits.maximumThrottleMicroseconds }

    /// Every value has a default: `IgbConfiguration()` is one queue pair of 512 descriptors.
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
        let driver = Limits.driverName, maximumRingSize = Self.maximumRingSize, minimumRingSize = Self.minimumRingSize
        let maximumQueues = Self.maximumQueues, maximumThrottle = Self.maximumThrottleMicroseconds
        guard ringSize > 0, ringSize & (ringSize - 1) == 0, ringSize <= maximumRingSize else {
            throw UIOError.invalidRingSize(ringSize, maximum: maximumRingSize)
        }
        guard ringSize >= minimumRingSize else {
            throw UIOError.device("\(driver): ring size \(ringSize) is too small: use a power of two from \(minimumRingSize) to \(maximumRingSize) (TX descriptors are cleaned \(AdvancedTXRing.cleanBatch) at a time)")
        }
        guard (1...maximumQueues).contains(rxQueues), (1...maximumQueues).contains(txQueues) else {
            throw UIOError.device("\(driver): \(rxQueues) RX and \(txQueues) TX queues requested: the device has \(maximumQueues) of each, use 1 to \(maximumQueues)")
        }
        guard mempoolSize >= ringSize else {
            throw UIOError.device("\(driver): mempool size \(mempoolSize) cannot fill an RX ring of \(ringSize) descriptors: use a mempool of at least \(ringSize) buffers (\(2 * ringSize) or more leaves room for packets in flight)")
        }
        guard (0...maximumThrottle).contains(interruptThrottleMicroseconds) else {
            throw UIOError.device("\(driver): interrupt throttle \(interruptThrottleMicroseconds) µs is outside EITR's range 0…\(maximumThrottle) µs")
        }
        guard linkTimeout >= .zero else {
            throw UIOError.device("\(driver): link timeout \(linkTimeout) is negative: use zero to not wait for the link")
        }
    }
}
