/// The operations every swift-uio NIC driver implements (the "device ops", as ixy's `struct ixy_device`).
///
/// Drivers are `~Copyable` values that own their PCI function and DMA memory. Applications and
/// the scheduler are generic over this protocol (`some NetworkDevice`), so every call is
/// specialised: no existential, no dynamic dispatch, no reference counting per packet.
public protocol NetworkDevice: ~Copyable {
    /// Short name of the driver, such as "virtio-net" or "ixgbe".
    var driverName: String { get }
    var rxQueueCount: Int { get }
    var txQueueCount: Int { get }
    var macAddress: MACAddress { get }

    /// Receives up to `batch.freeSpace` packets from `queue` into `batch`; returns how many.
    mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int
    /// Queues packets from the front of `batch` for sending; returns how many were taken.
    /// Those leave the batch (the driver frees them once sent); the rest stay, in order.
    mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int
    /// Whether `queue` has a received packet waiting. The scheduler checks this after arming
    /// the interrupt and before sleeping, so that no wake-up is lost.
    func hasPendingReceive(queue: Int) -> Bool

    /// Lets `queue` raise its RX interrupt.
    mutating func enableInterrupt(queue: Int)
    /// Stops `queue` from raising interrupts (while polling).
    mutating func disableInterrupt(queue: Int)
    /// Blocks until the device interrupts or `timeout` passes (nil).
    mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent?
    /// What to poll(2) for this device's interrupts beside other devices' (`DevicePair`);
    /// readable when `waitForInterrupt` would return at once. Empty when there is nothing to poll.
    var interruptDescriptors: [Int32] { get }
    /// Reads and clears the device's interrupt cause, updates link state on a link change,
    /// then re-arms the line. Returns what fired.
    mutating func acknowledgeInterrupt() throws -> InterruptCauses

    var link: LinkStatus { get }
    /// Totals since the driver was created.
    mutating func statistics() -> DeviceStatistics
    mutating func setPromiscuous(_ enabled: Bool) throws

    /// Stops DMA: queues off, interrupts masked, device reset. Idempotent; `deinit` calls it too.
    mutating func shutdown()

    /// Free buffers in the driver's packet-buffer pool, when the driver has one (a leak shows
    /// as this falling over time). nil: the driver does not say.
    var bufferPoolAvailable: Int? { get }

    /// What the set-up chose or found (negotiated features, ring and pool sizes, how
    /// interrupts arrive), as labelled values for the opener's log: the first thing to look at
    /// when a device behaves unlike another of its kind. Empty: the driver does not say.
    var setupDetails: [(String, String)] { get }
}

extension NetworkDevice where Self: ~Copyable {
    public var bufferPoolAvailable: Int? { nil }
    public var setupDetails: [(String, String)] { [] }
    public var interruptDescriptors: [Int32] { [] }
}

/// What an interrupt acknowledgement found.
public struct InterruptCauses: Sendable, Equatable {
    /// Bit q set: RX queue q has work.
    public var queues: UInt64
    public var linkChanged: Bool

    public init(queues: UInt64 = 0, linkChanged: Bool = false) {
        self.queues = queues
        self.linkChanged = linkChanged
    }

    public var isEmpty: Bool { queues == 0 && !linkChanged }
}

/// Whether the link is up, and at what speed.
public struct LinkStatus: Sendable, Equatable, CustomStringConvertible {
    public var isUp: Bool
    /// Mbit/s, 0 when unknown or down.
    public var speedMbps: Int

    public init(isUp: Bool, speedMbps: Int) {
        self.isUp = isUp
        self.speedMbps = speedMbps
    }

    public var description: String { isUp ? "up" + (speedMbps > 0 ? " \(speedMbps) Mbit/s" : "") : "down" }
}

/// A device's packet and byte counters, totals since its driver was created.
public struct DeviceStatistics: Sendable, Equatable {
    public var rxPackets: UInt64 = 0
    public var txPackets: UInt64 = 0
    /// Bytes of the frames received, without the Ethernet FCS (which the device strips).
    public var rxBytes: UInt64 = 0
    /// Bytes of the frames sent, without the FCS the device appends (a short frame counts
    /// padded, when the device pads it).
    public var txBytes: UInt64 = 0
    /// Frames the device dropped for lack of a receive descriptor.
    public var rxDropped: UInt64 = 0
    /// Frames the driver could not queue for sending.
    public var txDropped: UInt64 = 0
    /// Frames received longer than Ethernet allows (`EthernetFrame.isOversize`) and discarded:
    /// by the device where it checks (the 82599's ROC), by the driver where the device hands
    /// them over (virtio-net). They are not in `rxPackets` and never reach the application.
    public var rxOversize: UInt64 = 0
    /// Frames handed to `transmit` whose length was beyond their buffer's capacity (only
    /// possible by writing the buffer header directly: the length setters refuse it). Each
    /// was taken from the batch, freed and counted here, never sent: sending it would have put
    /// the bytes after the buffer on the wire. They are not in `txPackets`.
    public var txOversize: UInt64 = 0

    public init() {}
}
