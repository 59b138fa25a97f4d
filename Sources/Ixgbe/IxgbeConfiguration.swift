import IntelNIC
import UIO

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
