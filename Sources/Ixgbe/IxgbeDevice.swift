import IntelNIC
import UIO

/// The driver for Intel 82599 and X540 10 GbE controllers, after the 82599 datasheet and
/// ixy's `ixgbe.c`: advanced descriptors, one mempool per RX queue, legacy INTx interrupts,
/// and with several RX queues RSS spreading flows over them (`initRSS`).
///
/// Generic over the PCI function (a real UIO device or a simulated one) and the DMA allocator,
/// so the same code runs, specialised, on hardware and in the simulator.
public struct IxgbeDevice<Function: PCIFunction & ~Copyable, Allocator: DMAAllocator>: ~Copyable, NetworkDevice, MultiQueueDevice {
    /// Queues, ring and pool sizes, and the interrupt throttle (see ``IxgbeConfiguration``).
    public typealias Configuration = IxgbeConfiguration

    @usableFromInline var function: Function
    @usableFromInline let allocator: Allocator
    @usableFromInline let controller: IxgbeController<Function.Registers>
    /// The rings, from the descriptor core that Ixgbe and Igb share.
    @usableFromInline let queues: IntelQueues
    public let rxQueueCount: Int
    public let txQueueCount: Int
    public let family: IxgbeFamily
    /// What `init` was given.
    public let configuration: Configuration
    public let macAddress: MACAddress
    public private(set) var link: LinkStatus
    /// Totals of the device's read-to-clear counters.
    @usableFromInline var counters = DeviceStatistics()
    /// Total of GOTC as the device counts it: with the 4-byte FCS of each frame.
    @usableFromInline var octetsTransmitted: UInt64 = 0
    /// `detached[q]` while an `IntelQueuePair` has queue pair q.
    @usableFromInline let detached: UnsafeMutablePointer<Bool>
    /// What each queue pair carried while detached (its owner counts, `queueStatistics` reads).
    let counterSlots: QueueCounterSlots
    private var isShutDown = false

    public var driverName: String { "ixgbe" }
    public var setupDetails: [(String, String)] {
        [("family", family.rawValue), ("ring", "\(configuration.ringSize)"),
         ("mempool-per-rx-queue", "\(configuration.mempoolSize)"),
         ("interrupt-throttle-us", "\(configuration.interruptThrottleMicroseconds)"), ("interrupts", "intx")]
    }

    /// Initialises the device following 82599 datasheet §4.6.3 to §4.6.8, starting with the
    /// stop sequence and a global reset so that a device left running by a crashed process
    /// stops its DMA before new rings are given. Waits up to `configuration.linkTimeout` for
    /// the link.
    public init(function: consuming Function, allocator: Allocator, configuration: Configuration = .init()) throws {
        let family = try IxgbeFamily.require(vendor: function.vendorID, device: function.deviceID)
        try configuration.validate()
        let controller = IxgbeController(registers: try function.mapBAR(0), family: family, deviceID: function.deviceID,
                                         name: "ixgbe \(function.address)")
        // §4.6.3: reset, then wait for the NVM and the DMA engine.
        try controller.resetAndMaskInterrupts()
        try controller.waitForEEPROMAndDMAInit()
        try function.enableDMA()
        // §4.6.4, §4.6.5.
        controller.initLink()
        controller.clearStatistics()

        let rxCount = configuration.rxQueues, txCount = configuration.txQueues
        let queues = try IntelQueues(rxCount: rxCount, txCount: txCount, ringSize: configuration.ringSize,
                                     mempoolSize: configuration.mempoolSize, allocator: allocator,
                                     name: "ixgbe \(function.address)")

        // §4.6.7 receive, §4.6.8 transmit.
        controller.initRXGlobal()
        controller.initRSS(queues: rxCount)
        for q in 0..<rxCount { controller.initRXQueue(q, ring: queues.rx[q].ring, size: configuration.ringSize) }
        controller.initTXGlobal()
        for q in 0..<txCount { controller.initTXQueue(q, ring: queues.tx[q].ring, size: configuration.ringSize) }
        controller.enableTX()

        // Start the queues; a failure undoes everything: device stopped, memory freed.
        do {
            for q in 0..<rxCount {
                guard queues.fill(rx: q) else {
                    throw UIOError.device("ixgbe \(function.address): mempool of RX queue \(q) ran out while filling the ring")
                }
                try controller.startRXQueue(q, size: configuration.ringSize)
            }
            // §4.6.7: receive is switched on once the queues are (Linux does the same).
            controller.enableRX()
            for q in 0..<txCount { try controller.startTXQueue(q) }
        } catch {
            controller.stop()
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
        self.family = family
        self.configuration = configuration
        self.macAddress = controller.readMACAddress()
        self.link = LinkStatus(isUp: false, speedMbps: 0)
        controller.initInterrupts(rxQueues: rxCount, throttleMicroseconds: configuration.interruptThrottleMicroseconds)
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

    /// Frames dropped by the driver because they spanned more than one RX descriptor.
    public var droppedFragments: UInt64 {
        queues.droppedFragments
    }

    // MARK: Packets

    /// Receives through the shared descriptor core (ixy's `ixgbe_rx_batch`): RDT is written
    /// once per call.
    @inlinable
    public mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < rxQueueCount && !detached[queue], "RX queue \(queue) out of range 0..<\(rxQueueCount) or detached")
        return AdvancedRXRing.receive(queues.rx + queue, into: &batch, registers: controller.registers, tail: IXGBE.RDT(queue))
    }

    /// Transmits through the shared descriptor core (ixy's `ixgbe_tx_batch`): completed
    /// clean batches are freed first, and TDT is written once per call.
    @inlinable
    public mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < txQueueCount && !detached[queue], "TX queue \(queue) out of range 0..<\(txQueueCount) or detached")
        return queues.tx[queue].transmit(from: &batch, registers: controller.registers, tail: IXGBE.TDT(queue))
    }

    @inlinable
    public func hasPendingReceive(queue: Int) -> Bool {
        precondition(queue >= 0 && queue < rxQueueCount, "RX queue \(queue) out of range 0..<\(rxQueueCount)")
        return queues.rx[queue].hasPending
    }

    // MARK: Queue pairs for threads of their own

    /// RX/TX queue pairs: as many as both RX and TX queues (`IxgbeConfiguration`).
    public var maxQueuePairs: Int { min(rxQueueCount, txQueueCount) }

    /// Moves each queue pair (RX ring q, TX ring q, RX ring q's mempool, counter slot q) into
    /// an `IntelQueuePair` for a thread of its own; RSS (`initRSS`) decides which pair a flow
    /// reaches. Queue q's interrupt is its own EICR bit (q mod 16), armed and masked by the
    /// handle; the device keeps the INTx line and acknowledges EICR (`acknowledgeInterrupt`).
    public mutating func withDetachedQueues<U: QueueSetUser & ~Copyable>(_ user: inout U) throws {
        guard !isShutDown else { throw UIOError.device("ixgbe \(function.address): the device is shut down; open it again") }
        let pairs = maxQueuePairs
        var set = QueueSet<IntelQueuePair<Function.Registers>>(count: pairs)
        for q in 0..<pairs {
            precondition(!detached[q], "ixgbe: queue pair \(q) is already detached")
            detached[q] = true
            let bit: UInt32 = 1 << UInt32(q & 15)
            set.put(IntelQueuePair(index: q, rx: queues.rx + q, tx: queues.tx + q, registers: controller.registers,
                                   rxTail: IXGBE.RDT(q), txTail: IXGBE.TDT(q),
                                   interrupt: IntelQueueInterrupt(clearCause: IXGBE.EICR, unmask: IXGBE.EIMS, mask: IXGBE.EIMC, bits: bit),
                                   counters: counterSlots.slot(q)))
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

    /// Clears the queue's EICR cause, then unmasks it (EIMS). Frames that arrived while the
    /// cause was masked (a busy period of polling) left it set; unmasked as it is, it would
    /// end the next sleep at once. Writing 1 clears an EICR bit (§8.2.3.5.1). A frame that
    /// arrives between the clear and the unmask is not lost: the caller checks
    /// `hasPendingReceive` after enabling, before it sleeps.
    public mutating func enableInterrupt(queue: Int) {
        let cause: UInt32 = 1 << UInt32(queue & 15)
        controller.registers.write32(IXGBE.EICR, cause)
        controller.registers.write32(IXGBE.EIMS, cause)
    }

    /// EIMC: masks it again. With 16 queues or more, queues q and q + 16 share a cause bit.
    public mutating func disableInterrupt(queue: Int) {
        controller.registers.write32(IXGBE.EIMC, 1 << UInt32(queue & 15))
    }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        try function.waitForInterrupt(timeout: timeout)
    }

    public var interruptDescriptors: [Int32] { function.interruptDescriptors }

    /// Reads EICR, which clears it (not in MSI-X mode, §8.2.3.5.1) and deasserts INTx, then
    /// unmasks INTx. Bits 15:0 are the queue causes, bit 20 a link status change.
    public mutating func acknowledgeInterrupt() throws -> InterruptCauses {
        let eicr = controller.registers.read32(IXGBE.EICR)
        var causes = InterruptCauses()
        for q in 0..<rxQueueCount where eicr & (1 << UInt32(q & 15)) != 0 { causes.queues |= 1 << UInt64(q) }
        if eicr & IXGBE.EICR_LSC != 0 {
            link = controller.readLink()
            causes.linkChanged = true
        }
        try function.rearmInterrupt()
        return causes
    }

    // MARK: Statistics, promiscuous mode

    /// Adds the device's read-to-clear counters (§8.2.3.23) to the totals and returns them.
    ///
    /// Bytes are frame bytes without the FCS, as every swift-uio driver counts them (virtio
    /// has no FCS; the forwarder adds 24 bytes of preamble, gap and FCS per frame for the
    /// wire rate). The receive octet counters leave out the FCS the device strips; GOTC
    /// counts "from the Destination Address field through the CRC field, inclusively", 4
    /// bytes a frame more over the same frames as GPTC, so the driver takes 4 bytes per sent
    /// frame off. A frame shorter than 60 bytes counts as sent padded to 60
    /// (HLREG0.TXPADEN), as it went on the wire.
    public mutating func statistics() -> DeviceStatistics {
        guard !isShutDown else { return counters }
        let delta = controller.readStatistics()
        counters.rxPackets &+= delta.rxPackets
        counters.rxBytes &+= delta.rxBytes
        counters.rxDropped &+= delta.rxDropped
        counters.txPackets &+= delta.txPackets
        octetsTransmitted &+= delta.txBytes
        // On the totals, not on each delta: a frame counted between the packet and the octet
        // reads shows in one delta and not the other, but never makes a total go backwards.
        counters.txBytes = octetsTransmitted &- min(octetsTransmitted, IXGBE.fcsSize &* counters.txPackets)
        counters.rxOversize &+= delta.rxOversize
        counters.txOversize = queues.oversizeRefused
        return counters
    }

    /// FCTRL.UPE and FCTRL.MPE: accept every unicast and multicast frame.
    public mutating func setPromiscuous(_ enabled: Bool) throws {
        if enabled {
            controller.registers.setBits32(IXGBE.FCTRL, IXGBE.FCTRL_UPE | IXGBE.FCTRL_MPE)
        } else {
            controller.registers.clearBits32(IXGBE.FCTRL, IXGBE.FCTRL_UPE | IXGBE.FCTRL_MPE)
        }
    }

    // MARK: Shutdown

    /// Receive, queues and interrupts off, PCIe master access disabled and drained, device
    /// reset (it stops all DMA), then frees rings and buffers.
    public mutating func shutdown() {
        guard !isShutDown else { return }
        _ = statistics()
        isShutDown = true
        stopAndRelease()
    }

    /// A pair still detached may be in use on another thread: the rings and pools are then
    /// left allocated (a leak, never a use after free); the reset has stopped their DMA.
    private func stopAndRelease() {
        controller.stop()
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

extension IxgbeController {
    /// Receive Address 0, which the device loads from the NVM: RAL holds bytes 0…3, the
    /// low half of RAH bytes 4 and 5.
    func readMACAddress() -> MACAddress {
        let low = registers.read32(IXGBE.RAL(0)), high = registers.read32(IXGBE.RAH(0))
        return MACAddress(UInt8(truncatingIfNeeded: low), UInt8(truncatingIfNeeded: low >> 8),
                          UInt8(truncatingIfNeeded: low >> 16), UInt8(truncatingIfNeeded: low >> 24),
                          UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: high >> 8))
    }
}
