import IntelNIC
import UIO

/// How `IgbDevice` sets the device up.
public struct IgbConfiguration: Sendable, Equatable {
    /// RX queues (1…16). With more than one, RSS spreads flows over them; with one, every
    /// frame lands in queue 0.
    public var rxQueues = 1
    /// TX queues (1…16).
    public var txQueues = 1
    /// Descriptors per ring: a power of two, 64…4096 (RDLEN is a multiple of 128 bytes).
    public var ringSize = 512
    /// Buffers in each RX queue's mempool; at least `ringSize`.
    public var mempoolSize = 4096
    /// Minimum interval between interrupts (EITR[0], which throttles INTx; 0…8191 µs).
    public var interruptThrottleMicroseconds = 10
    /// How long `init` waits for the link (the PHY's auto-negotiation). A link still down
    /// afterwards is not an error: `link` says so and the LSC interrupt updates it.
    public var linkTimeout: Duration = .seconds(10)

    public static let minimumRingSize = 64
    public static let maximumRingSize = 4096
    public static let maximumQueues = 16
    public static let maximumThrottleMicroseconds = 8191

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
            driver: "igb", rxQueues: rxQueues, txQueues: txQueues, maximumQueues: Self.maximumQueues,
            ringSize: ringSize, mempoolSize: mempoolSize, interruptThrottleMicroseconds: interruptThrottleMicroseconds,
            maximumThrottleMicroseconds: Self.maximumThrottleMicroseconds, linkTimeout: linkTimeout,
            minimumRingSize: Self.minimumRingSize, maximumRingSize: Self.maximumRingSize)
    }
}
