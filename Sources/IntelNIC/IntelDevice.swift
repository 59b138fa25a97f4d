import UIO

/// An Intel NIC driven through the advanced descriptor rings: the part every Intel family
/// shares, generic over the family's ``IntelChip`` (igb's 82576, ixgbe's 82599 and X540),
/// the PCI function (a real UIO or VFIO device, a simulated one, a test's fake) and the DMA
/// allocator, so that the same code runs, specialised, on hardware and in tests.
///
/// It owns the rings and their mempools (one per RX queue), the queue pairs it lends to
/// threads (`withDetachedQueues`), receive and transmit, the statistics totals, the MAC
/// address and shutdown. The chip carries the rest: its reset and init sequence, link,
/// interrupt causes, counters and registers. `IgbDevice` and `IxgbeDevice` are this type.
///
/// The hot path (`receive`, `transmit`, `hasPendingReceive`) is inlinable and calls only the
/// shared descriptor core (`AdvancedRXRing`, `AdvancedTXRing`) and the chip's tail register
/// offsets: no class instance, no existential, no reference counting.
public struct IntelDevice<Chip: IntelChip, Function: PCIFunction & ~Copyable, Allocator: DMAAllocator>: ~Copyable,
    NetworkDevice, MultiQueueDevice where Chip.Registers == Function.Registers {
    /// Queues, ring and pool sizes, the interrupt throttle and the link wait.
    public typealias Configuration = IntelConfiguration<Chip.Limits>

    @usableFromInline var function: Function
    @usableFromInline let allocator: Allocator
    /// The family's registers and steps (what the chip found at init, such as igb's part or
    /// ixgbe's family); the hot path writes tails through `chip.registers`.
    public let chip: Chip
    /// The rings, from the descriptor core that every Intel family shares.
    @usableFromInline let queues: IntelQueues
    /// RX queues in use.
    public let rxQueueCount: Int
    /// TX queues in use.
    public let txQueueCount: Int
    /// Receive address 0, as the device loaded it from its NVM.
    public let macAddress: MACAddress
    /// The link as last read: at init, then on each link-change interrupt.
    public private(set) var link: LinkStatus
    /// What `init` was given.
    public let configuration: Configuration
    /// Totals of the device's read-to-clear counters.
    @usableFromInline var counters = DeviceStatistics()
    /// Totals of the receive and transmit octet counters as the device counts them (transmit
    /// with the 4-byte CRC of each frame; receive too where the chip says so).
    @usableFromInline var octetsReceived: UInt64 = 0
    @usableFromInline var octetsTransmitted: UInt64 = 0
    /// `detached[q]` while an `IntelQueuePair` has queue pair q.
    @usableFromInline let detached: UnsafeMutablePointer<Bool>
    /// What each queue pair carried while detached (its owner counts, `queueStatistics` reads).
    let counterSlots: QueueCounterSlots
    private var isShutDown = false

    /// The Ethernet CRC that the octet counters include and `DeviceStatistics` leaves out.
    static var fcsSize: UInt64 { 4 }

    /// "igb" or "ixgbe" (the family's ``IntelFamilyLimits/driverName``).
    public var driverName: String { Chip.Limits.driverName }

    /// The chip's findings (part, family, NVM), then the sizes given and the interrupt mode.
    public var setupDetails: [(String, String)] {
        chip.setupDetails + [
            ("ring", "\(configuration.ringSize)"), ("mempool-per-rx-queue", "\(configuration.mempoolSize)"),
            ("interrupt-throttle-us", "\(configuration.interruptThrottleMicroseconds)"), ("interrupts", "intx")]
    }

    /// Initialises the device in the chip's datasheet order (see ``IntelChip``): reset first,
    /// so that a device a crashed process left running stops its DMA before new rings are
    /// given, then link, statistics, receive and transmit queues and interrupts. Waits up to
    /// `configuration.linkTimeout` for the link. A throw once Bus Master is on stops the
    /// device, clears Bus Master and frees whatever was allocated.
    public init(function: consuming Function, allocator: Allocator, configuration: Configuration = .init()) throws {
        let part = try Chip.identify(vendorID: function.vendorID, deviceID: function.deviceID)
        try configuration.validate()
        let name = "\(Chip.Limits.driverName) \(function.address)"
        var chip = Chip(registers: try function.mapBAR(0), part: part, deviceID: function.deviceID, name: name)
        try chip.reset()
        try function.enableDMA()

        let rxCount = configuration.rxQueues, txCount = configuration.txQueues
        let queues: IntelQueues
        do {
            try chip.initLink()
            chip.clearStatistics()
            queues = try IntelQueues(rxCount: rxCount, txCount: txCount, ringSize: configuration.ringSize,
                                     mempoolSize: configuration.mempoolSize, allocator: allocator, name: name)
        } catch {
            chip.stop(rxQueues: 0, txQueues: 0)
            try? function.disableDMA()
            throw error
        }
        do {
            try chip.startQueues(queues, ringSize: configuration.ringSize)
        } catch {
            chip.stop(rxQueues: rxCount, txQueues: txCount)
            try? function.disableDMA()
            queues.release(allocator: allocator)
            throw error
        }

        self.function = function
        self.allocator = allocator
        self.chip = chip
        self.queues = queues
        self.rxQueueCount = rxCount
        self.txQueueCount = txCount
        self.detached = .allocate(capacity: max(rxCount, txCount))
        self.detached.initialize(repeating: false, count: max(rxCount, txCount))
        self.counterSlots = QueueCounterSlots(count: min(rxCount, txCount))
        self.configuration = configuration
        self.macAddress = chip.readMACAddress()
        self.link = LinkStatus(isUp: false, speedMbps: 0)
        chip.initInterrupts(rxQueues: rxCount, throttleMicroseconds: configuration.interruptThrottleMicroseconds)
        link = chip.waitForLink(timeout: configuration.linkTimeout)
    }

    deinit {
        if !isShutDown { stopAndRelease() }
        releaseBookkeeping()
    }

    /// The pool RX queue `queue` takes its buffers from; applications may allocate TX
    /// buffers from it too (on the thread that owns the queue).
    public func mempool(queue: Int) -> Mempool {
        precondition(queue >= 0 && queue < rxQueueCount, "RX queue \(queue) out of range 0..<\(rxQueueCount)")
        return queues.rx[queue].mempool
    }

    /// Free buffers in RX queue 0's pool; nil once shut down (the pools are freed then).
    public var bufferPoolAvailable: Int? { isShutDown ? nil : queues.rx[0].mempool.available }

    /// Frames dropped by the driver because they spanned more than one RX descriptor.
    public var droppedFragments: UInt64 { queues.droppedFragments }

    // MARK: Packets

    /// Receives through the shared descriptor core (ixy's `ixgbe_rx_batch`): the RX tail is
    /// written once per call.
    @inlinable
    public mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < rxQueueCount && !detached[queue], "RX queue \(queue) out of range 0..<\(rxQueueCount) or detached")
        return AdvancedRXRing.receive(queues.rx + queue, into: &batch, registers: chip.registers, tail: Chip.rxTail(queue))
    }

    /// Transmits through the shared descriptor core (ixy's `ixgbe_tx_batch`): completed
    /// clean batches are freed first, and the TX tail is written once per call.
    @inlinable
    public mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < txQueueCount && !detached[queue], "TX queue \(queue) out of range 0..<\(txQueueCount) or detached")
        return queues.tx[queue].transmit(from: &batch, registers: chip.registers, tail: Chip.txTail(queue))
    }

    /// Whether the next descriptor of RX queue `queue` is done (its DD bit).
    @inlinable
    public func hasPendingReceive(queue: Int) -> Bool {
        precondition(queue >= 0 && queue < rxQueueCount, "RX queue \(queue) out of range 0..<\(rxQueueCount)")
        return queues.rx[queue].hasPending
    }

    // MARK: Queue pairs for threads of their own

    /// RX/TX queue pairs: as many as both RX and TX queues (the configuration's).
    public var maxQueuePairs: Int { min(rxQueueCount, txQueueCount) }

    /// Moves each queue pair (RX ring q, TX ring q, RX ring q's mempool, counter slot q) into
    /// an `IntelQueuePair` for a thread of its own; RSS decides which pair a flow reaches.
    /// Each pair arms and masks its receive interrupt as the chip says
    /// (``IntelChip/receiveInterrupt(queue:owners:)``); the device keeps the INTx line, and
    /// `acknowledgeInterrupt` names the queues that may have work.
    public mutating func withDetachedQueues<U: QueueSetUser & ~Copyable>(_ user: inout U) throws {
        guard !isShutDown else {
            throw UIOError.device("\(Chip.Limits.driverName) \(function.address): the device is shut down; open it again")
        }
        let pairs = maxQueuePairs
        var set = QueueSet<IntelQueuePair<Function.Registers>>(count: pairs)
        for q in 0..<pairs {
            precondition(!detached[q], "\(Chip.Limits.driverName): queue pair \(q) is already detached")
            detached[q] = true
            set.put(IntelQueuePair(index: q, rx: queues.rx + q, tx: queues.tx + q, registers: chip.registers,
                                   rxTail: Chip.rxTail(q), txTail: Chip.txTail(q),
                                   interrupt: chip.receiveInterrupt(queue: q, owners: pairs), counters: counterSlots.slot(q)))
        }
        defer {
            // The handle is a view of the device's rings: giving it back is dropping it.
            for q in 0..<pairs where set.contains(q) {
                _ = set.take(q)
                detached[q] = false
            }
        }
        try user.use(device: &self, queues: &set)
    }

    /// What queue pair `index` carried while detached, read from its counter slot.
    public func queueStatistics(_ index: Int) -> DeviceStatistics { counterSlots.read(index) }

    // MARK: Interrupts

    /// Clears the queue's stale receive cause, then unmasks it (``IntelQueueInterrupt/arm(_:)``).
    /// The scheduler re-checks the ring after this, so a frame in between is not lost.
    public mutating func enableInterrupt(queue: Int) {
        chip.receiveInterrupt(queue: queue, owners: 1).arm(chip.registers)
    }

    /// Masks the queue's receive cause again while polling.
    public mutating func disableInterrupt(queue: Int) {
        chip.receiveInterrupt(queue: queue, owners: 1).disarm(chip.registers)
    }

    /// Blocks on the PCI function's interrupt line (INTx) until it fires or `timeout` passes.
    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        try function.waitForInterrupt(timeout: timeout)
    }

    /// The interrupt line's descriptors, for polling beside other devices.
    public var interruptDescriptors: [Int32] { function.interruptDescriptors }

    /// Reads the chip's cause register, which clears it outside MSI-X mode and deasserts
    /// INTx; a link change updates `link`. Then unmasks INTx at the PCI function.
    public mutating func acknowledgeInterrupt() throws -> InterruptCauses {
        let causes = chip.readInterruptCauses(rxQueues: rxQueueCount)
        if causes.linkChanged { link = chip.readLink() }
        try function.rearmInterrupt()
        return causes
    }

    // MARK: Statistics, promiscuous mode

    /// Adds the device's read-to-clear counters to the totals and returns them.
    ///
    /// Bytes are frame bytes without the CRC, as every swift-uio driver counts them (virtio
    /// has no CRC; the forwarder adds 24 bytes of preamble, gap and CRC per frame for the wire
    /// rate). The transmit octets (GOTC) count "from the Destination Address field through
    /// the CRC field", 4 bytes a frame more over the same frames as GPTC, and so do the
    /// receive octets where ``IntelChip/receiveOctetsIncludeFCS`` says so: the driver takes 4
    /// bytes per counted frame off, on the totals, so that a frame counted between the packet
    /// and the octet reads never makes a total go backwards.
    ///
    /// `shutdown` reads the counters one last time before the reset clears them; afterwards
    /// this returns those final totals without touching the device.
    public mutating func statistics() -> DeviceStatistics {
        guard !isShutDown else { return counters }
        let delta = chip.readStatistics()
        counters.rxPackets &+= delta.rxPackets
        counters.txPackets &+= delta.txPackets
        octetsReceived &+= delta.rxBytes
        octetsTransmitted &+= delta.txBytes
        let rxCRC = Chip.receiveOctetsIncludeFCS ? Self.fcsSize &* counters.rxPackets : 0
        counters.rxBytes = octetsReceived &- min(octetsReceived, rxCRC)
        counters.txBytes = octetsTransmitted &- min(octetsTransmitted, Self.fcsSize &* counters.txPackets)
        counters.rxDropped &+= delta.rxDropped
        counters.txDropped &+= delta.txDropped
        counters.rxOversize &+= delta.rxOversize
        counters.txOversize = queues.oversizeRefused
        return counters
    }

    /// Accept every unicast and multicast frame (`enabled`), or only the device's own and
    /// broadcast.
    public mutating func setPromiscuous(_ enabled: Bool) throws {
        chip.setPromiscuous(enabled)
    }

    // MARK: Shutdown

    /// Reads the counters a last time, then the chip's stop sequence (queues off, interrupts
    /// masked, DMA stopped, reset), Bus Master off, and frees rings and buffers. Idempotent.
    public mutating func shutdown() {
        guard !isShutDown else { return }
        _ = statistics()
        isShutDown = true
        stopAndRelease()
    }

    /// A pair still detached may be in use on another thread: the rings and pools are then
    /// left allocated (a leak, never a use after free); the reset has stopped their DMA.
    private func stopAndRelease() {
        chip.stop(rxQueues: rxQueueCount, txQueues: txQueueCount)
        try? function.disableDMA()
        if !anyDetached { queues.release(allocator: allocator) }
    }

    private var anyDetached: Bool { (0..<max(rxQueueCount, txQueueCount)).contains { detached[$0] } }

    /// The bookkeeping outlives `shutdown()` and goes with the device, unless a pair is still
    /// detached: its handle points into the counter slots.
    private func releaseBookkeeping() {
        guard !anyDetached else { return }
        detached.deallocate()
        counterSlots.deallocate()
    }
}
