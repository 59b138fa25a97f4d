import IntelNIC
import UIO

/// The driver for the Intel 82576 gigabit controller (Linux's igb), after the 82576
/// datasheet: advanced descriptors through the descriptor core it shares with the ixgbe
/// driver, one mempool per RX queue, legacy INTx interrupts through ICR/IMS, and with several
/// RX queues RSS spreading flows over them (`initRSS`).
///
/// Generic over the PCI function (a real UIO device or a simulated one) and the DMA
/// allocator, so the same code runs, specialised, on hardware and in tests.
public struct IgbDevice<Function: PCIFunction & ~Copyable, Allocator: DMAAllocator>: ~Copyable, NetworkDevice, MultiQueueDevice {
    /// The queue sizes and time-outs that `init` takes (``IgbConfiguration``).
    public typealias Configuration = IgbConfiguration

    @usableFromInline var function: Function
    @usableFromInline let allocator: Allocator
    @usableFromInline let controller: IgbController<Function.Registers>
    @usableFromInline let queues: IntelQueues
    public let rxQueueCount: Int
    public let txQueueCount: Int
    public let part: IgbPart
    public let macAddress: MACAddress
    public private(set) var link: LinkStatus
    /// Whether EECD.AUTO_RD was seen after the reset (QEMU's igb never sets it).
    public let eepromAutoReadDone: Bool
    /// What `init` was given.
    public let configuration: Configuration
    /// Totals of the device's read-to-clear counters.
    @usableFromInline var counters = DeviceStatistics()
    /// Totals of GORC and GOTC as the device counts them: with the 4-byte CRC of each frame.
    @usableFromInline var octetsReceived: UInt64 = 0
    @usableFromInline var octetsTransmitted: UInt64 = 0
    /// ICR.RXDW is one cause for every queue: bit q set for each RX queue.
    @usableFromInline let allQueuesMask: UInt64
    /// `detached[q]` while an `IntelQueuePair` has queue pair q.
    @usableFromInline let detached: UnsafeMutablePointer<Bool>
    /// What each queue pair carried while detached (its owner counts, `queueStatistics` reads).
    let counterSlots: QueueCounterSlots
    private var isShutDown = false

    public var driverName: String { "igb" }
    public var setupDetails: [(String, String)] {
        [("part", part == .copper ? "copper" : "serdes"), ("eeprom-auto-read", eepromAutoReadDone ? "done" : "not seen"),
         ("ring", "\(configuration.ringSize)"), ("mempool-per-rx-queue", "\(configuration.mempoolSize)"),
         ("interrupt-throttle-us", "\(configuration.interruptThrottleMicroseconds)"), ("interrupts", "intx")]
    }

    /// Initialises the device in the datasheet's order: interrupts off, DMA quiesced and a
    /// device reset (so that a device a crashed process left running stops first), EEPROM
    /// auto-read, link through the internal PHY, statistics, receive and transmit queues,
    /// interrupts. Waits up to `configuration.linkTimeout` for the link.
    public init(function: consuming Function, allocator: Allocator, configuration: Configuration = .init()) throws {
        let part = try IgbPart.require(vendor: function.vendorID, device: function.deviceID)
        try configuration.validate()
        let name = "igb \(function.address)"
        let controller = IgbController(registers: try function.mapBAR(0), part: part, name: name)
        try controller.resetAndMaskInterrupts()
        let eepromDone = controller.waitForEEPROMAutoRead()
        try function.enableDMA()
        controller.takeOwnership()
        try controller.initLink()
        controller.clearStatistics()

        let rxCount = configuration.rxQueues, txCount = configuration.txQueues
        let queues = try IntelQueues(rxCount: rxCount, txCount: txCount, ringSize: configuration.ringSize,
                                     mempoolSize: configuration.mempoolSize, allocator: allocator, name: name)
        do {
            controller.initRXGlobal()
            controller.initRSS(queues: rxCount)
            for q in 0..<rxCount {
                controller.initRXQueue(q, ring: queues.rx[q].ring, size: configuration.ringSize)
                guard queues.fill(rx: q) else {
                    throw UIOError.device("\(name): mempool of RX queue \(q) ran out while filling the ring")
                }
                try controller.startRXQueue(q, size: configuration.ringSize)
            }
            controller.enableRX()
            controller.initTXGlobal()
            for q in 0..<txCount { try controller.startTXQueue(q, ring: queues.tx[q].ring, size: configuration.ringSize) }
            controller.enableTX()
        } catch {
            controller.stop(rxQueues: rxCount, txQueues: txCount)
            try? function.disableDMA()
            queues.release(allocator: allocator)
            throw error
        }

        self.function = function
        self.allocator = allocator
        self.controller = controller
        self.queues = queues
        self.rxQueueCount = rxCount
        self.txQueueCount = txCount
        self.detached = .allocate(capacity: max(rxCount, txCount))
        self.detached.initialize(repeating: false, count: max(rxCount, txCount))
        self.counterSlots = QueueCounterSlots(count: min(rxCount, txCount))
        self.part = part
        self.eepromAutoReadDone = eepromDone
        self.configuration = configuration
        self.macAddress = controller.readMACAddress()
        self.allQueuesMask = rxCount >= 64 ? ~0 : (1 << UInt64(rxCount)) - 1
        self.link = LinkStatus(isUp: false, speedMbps: 0)
        controller.initInterrupts(throttleMicroseconds: configuration.interruptThrottleMicroseconds)
        link = controller.waitForLink(timeout: configuration.linkTimeout)
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

    /// nil once shut down: the pools are freed then.
    public var bufferPoolAvailable: Int? { isShutDown ? nil : queues.rx[0].mempool.available }

    /// Frames dropped by the driver because they spanned more than one RX descriptor.
    public var droppedFragments: UInt64 { queues.droppedFragments }

    // MARK: Packets

    /// Receives through the shared descriptor core: RDT is written once per call.
    @inlinable
    public mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < rxQueueCount && !detached[queue], "RX queue \(queue) out of range 0..<\(rxQueueCount) or detached")
        return AdvancedRXRing.receive(queues.rx + queue, into: &batch, registers: controller.registers, tail: IGB.RDT(queue))
    }

    /// Transmits through the shared descriptor core: completed clean batches are freed
    /// first, and TDT is written once per call.
    @inlinable
    public mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < txQueueCount && !detached[queue], "TX queue \(queue) out of range 0..<\(txQueueCount) or detached")
        return queues.tx[queue].transmit(from: &batch, registers: controller.registers, tail: IGB.TDT(queue))
    }

    @inlinable
    public func hasPendingReceive(queue: Int) -> Bool {
        precondition(queue >= 0 && queue < rxQueueCount, "RX queue \(queue) out of range 0..<\(rxQueueCount)")
        return queues.rx[queue].hasPending
    }

    // MARK: Queue pairs for threads of their own

    /// RX/TX queue pairs: as many as both RX and TX queues (`IgbConfiguration`).
    public var maxQueuePairs: Int { min(rxQueueCount, txQueueCount) }

    /// Moves each queue pair (RX ring q, TX ring q, RX ring q's mempool, counter slot q) into
    /// an `IntelQueuePair` for a thread of its own; RSS (`initRSS`) decides which pair a flow
    /// reaches. With INTx (no MSI-X) every RX queue shares one cause, ICR.RXDW (QEMU's igb
    /// drives INTx from ICR & IMS alone): with several pairs a handle only unmasks it, never
    /// clears or masks it, or it would silence the queues asleep (see `IntelQueueInterrupt`).
    /// The device keeps the line; `acknowledgeInterrupt` reads ICR and names every queue, and
    /// the waker wakes those whose ring has a frame.
    public mutating func withDetachedQueues<U: QueueSetUser & ~Copyable>(_ user: inout U) throws {
        guard !isShutDown else { throw UIOError.device("igb \(function.address): the device is shut down; open it again") }
        let pairs = maxQueuePairs
        let interrupt = pairs == 1
            ? IntelQueueInterrupt(clearCause: IGB.ICR, unmask: IGB.IMS, mask: IGB.IMC, bits: IGB.ICR_RXDW)
            : IntelQueueInterrupt(clearCause: nil, unmask: IGB.IMS, mask: nil, bits: IGB.ICR_RXDW)
        var set = QueueSet<IntelQueuePair<Function.Registers>>(count: pairs)
        for q in 0..<pairs {
            precondition(!detached[q], "igb: queue pair \(q) is already detached")
            detached[q] = true
            set.put(IntelQueuePair(index: q, rx: queues.rx + q, tx: queues.tx + q, registers: controller.registers,
                                   rxTail: IGB.RDT(q), txTail: IGB.TDT(q), interrupt: interrupt, counters: counterSlots.slot(q)))
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

    /// Clears a stale ICR.RXDW (write 1 to clear) from frames already taken while polling,
    /// so that the sleep that follows does not wake at once, then unmasks it (IMS). The
    /// scheduler re-checks the ring after this, so a frame in between is not lost.
    /// RXDW is one cause for all queues: with several queues, any queue wakes the sleeper.
    public mutating func enableInterrupt(queue: Int) {
        controller.registers.write32(IGB.ICR, IGB.ICR_RXDW)
        controller.registers.write32(IGB.IMS, IGB.ICR_RXDW)
    }

    /// IMC: masks RXDW again while polling.
    public mutating func disableInterrupt(queue: Int) {
        controller.registers.write32(IGB.IMC, IGB.ICR_RXDW)
    }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        try function.waitForInterrupt(timeout: timeout)
    }

    public var interruptDescriptors: [Int32] { function.interruptDescriptors }

    /// Reads ICR, which clears it outside MSI-X mode and deasserts INTx, then unmasks INTx.
    /// RXDW stands for every RX queue; LSC updates the link from STATUS.
    public mutating func acknowledgeInterrupt() throws -> InterruptCauses {
        let icr = controller.registers.read32(IGB.ICR)
        var causes = InterruptCauses()
        if icr & IGB.ICR_RXDW != 0 { causes.queues = allQueuesMask }
        if icr & IGB.ICR_LSC != 0 {
            link = controller.readLink()
            causes.linkChanged = true
        }
        try function.rearmInterrupt()
        return causes
    }

    // MARK: Statistics, promiscuous mode

    /// Adds the device's read-to-clear counters to the totals and returns them.
    ///
    /// Bytes are frame bytes without the CRC, as every swift-uio driver counts them. GORC
    /// and GOTC count from the destination address through the CRC, 4 bytes a frame more,
    /// over the same good frames as GPRC and GPTC, so the driver takes 4 bytes per counted
    /// frame off the totals (on the totals, so that a frame counted between the packet and
    /// the octet reads never makes a total go backwards). rxDropped is MPC.
    ///
    /// `shutdown` reads the counters one last time before the reset clears them; afterwards
    /// this returns those final totals without touching the device.
    public mutating func statistics() -> DeviceStatistics {
        guard !isShutDown else { return counters }
        let delta = controller.readStatistics()
        counters.rxPackets &+= delta.rxPackets
        counters.txPackets &+= delta.txPackets
        octetsReceived &+= delta.rxBytes
        octetsTransmitted &+= delta.txBytes
        counters.rxBytes = octetsReceived &- min(octetsReceived, IGB.fcsSize &* counters.rxPackets)
        counters.txBytes = octetsTransmitted &- min(octetsTransmitted, IGB.fcsSize &* counters.txPackets)
        counters.rxDropped &+= delta.rxDropped
        counters.txOversize = queues.oversizeRefused
        return counters
    }

    /// RCTL.UPE and RCTL.MPE: accept every unicast and multicast frame.
    public mutating func setPromiscuous(_ enabled: Bool) throws {
        if enabled {
            controller.registers.setBits32(IGB.RCTL, IGB.RCTL_UPE | IGB.RCTL_MPE)
        } else {
            controller.registers.clearBits32(IGB.RCTL, IGB.RCTL_UPE | IGB.RCTL_MPE)
        }
    }

    // MARK: Shutdown

    /// Queues off, interrupts masked, device quiesced and reset (it stops all DMA), then
    /// frees rings and buffers.
    public mutating func shutdown() {
        guard !isShutDown else { return }
        _ = statistics()
        isShutDown = true
        stopAndRelease()
    }

    /// A pair still detached may be in use on another thread: the rings and pools are then
    /// left allocated (a leak, never a use after free); the reset has stopped their DMA.
    private func stopAndRelease() {
        controller.stop(rxQueues: rxQueueCount, txQueues: txQueueCount)
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
