import UIO

/// The driver for Intel 82599 and X540 10 GbE controllers, after the 82599 datasheet and
/// ixy's `ixgbe.c`: advanced descriptors, one mempool per RX queue, legacy INTx interrupts.
///
/// Generic over the PCI function (a real UIO device or a simulated one) and the DMA allocator,
/// so the same code runs, specialised, on hardware and in the simulator.
public struct IxgbeDevice<Function: PCIFunction & ~Copyable, Allocator: DMAAllocator>: ~Copyable, NetworkDevice {
    /// Queues, ring and pool sizes, and the interrupt throttle (see ``IxgbeConfiguration``).
    public typealias Configuration = IxgbeConfiguration

    @usableFromInline var function: Function
    @usableFromInline let allocator: Allocator
    @usableFromInline let controller: IxgbeController<Function.Registers>
    @usableFromInline let rxQueues: UnsafeMutablePointer<IxgbeRXQueue>
    @usableFromInline let txQueues: UnsafeMutablePointer<IxgbeTXQueue>
    public let rxQueueCount: Int
    public let txQueueCount: Int
    public let family: IxgbeFamily
    public let macAddress: MACAddress
    public private(set) var link: LinkStatus
    /// Totals of the device's read-to-clear counters.
    @usableFromInline var counters = DeviceStatistics()
    /// Total of GOTC as the device counts it: with the 4-byte FCS of each frame.
    @usableFromInline var octetsTransmitted: UInt64 = 0
    private var isShutDown = false

    public var driverName: String { "ixgbe" }

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
        let (rx, tx) = try Self.allocateQueues(configuration: configuration, allocator: allocator)

        // §4.6.7 receive, §4.6.8 transmit.
        controller.initRXGlobal()
        for q in 0..<rxCount { controller.initRXQueue(q, ring: rx[q].ring, size: configuration.ringSize) }
        controller.initTXGlobal()
        for q in 0..<txCount { controller.initTXQueue(q, ring: tx[q].ring, size: configuration.ringSize) }
        controller.enableTX()

        // Start the queues; a failure undoes everything: device stopped, memory freed.
        do {
            for q in 0..<rxCount {
                guard rx[q].fill() else {
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
            Self.release(rx: rx, rxCount: rxCount, tx: tx, txCount: txCount, allocator: allocator)
            throw error
        }

        self.function = function
        self.allocator = allocator
        self.controller = controller
        self.rxQueues = rx
        self.txQueues = tx
        self.rxQueueCount = rxCount
        self.txQueueCount = txCount
        self.family = family
        self.macAddress = controller.readMACAddress()
        self.link = LinkStatus(isUp: false, speedMbps: 0)
        controller.initInterrupts(rxQueues: rxCount, throttleMicroseconds: configuration.interruptThrottleMicroseconds)
        link = controller.waitForLink(timeout: configuration.linkTimeout)
    }

    /// Allocates every queue's ring, shadow array and mempool, or nothing.
    private static func allocateQueues(configuration: Configuration, allocator: Allocator) throws
        -> (UnsafeMutablePointer<IxgbeRXQueue>, UnsafeMutablePointer<IxgbeTXQueue>)
    {
        let rx = UnsafeMutablePointer<IxgbeRXQueue>.allocate(capacity: configuration.rxQueues)
        let tx = UnsafeMutablePointer<IxgbeTXQueue>.allocate(capacity: configuration.txQueues)
        var rxDone = 0, txDone = 0
        do {
            while rxDone < configuration.rxQueues {
                (rx + rxDone).initialize(to: try IxgbeRXQueue(size: configuration.ringSize, mempoolSize: configuration.mempoolSize, allocator: allocator))
                rxDone += 1
            }
            while txDone < configuration.txQueues {
                (tx + txDone).initialize(to: try IxgbeTXQueue(size: configuration.ringSize, allocator: allocator))
                txDone += 1
            }
        } catch {
            release(rx: rx, rxCount: rxDone, tx: tx, txCount: txDone, allocator: allocator)
            throw error
        }
        return (rx, tx)
    }

    /// Returns every buffer to its pool and frees rings, pools and the queue arrays. Only
    /// once the device can no longer write to them (after a reset, or before it was started).
    private static func release(rx: UnsafeMutablePointer<IxgbeRXQueue>, rxCount: Int,
                                tx: UnsafeMutablePointer<IxgbeTXQueue>, txCount: Int, allocator: Allocator) {
        // TX first: buffers still in a TX ring belong to RX queues' pools, which can only be
        // destroyed once every buffer is back.
        for q in 0..<txCount { tx[q].destroy(allocator: allocator) }
        for q in 0..<rxCount { rx[q].destroy(allocator: allocator) }
        rx.deinitialize(count: rxCount)
        tx.deinitialize(count: txCount)
        rx.deallocate()
        tx.deallocate()
    }

    deinit { if !isShutDown { stopAndRelease() } }

    /// The pool RX queue `queue` takes its buffers from; applications may allocate TX
    /// buffers from it too (on the thread that owns the queue).
    public func mempool(queue: Int) -> Mempool {
        precondition(queue >= 0 && queue < rxQueueCount, "RX queue \(queue) out of range 0..<\(rxQueueCount)")
        return rxQueues[queue].mempool
    }

    /// Frames dropped by the driver because they spanned more than one RX descriptor.
    public var droppedFragments: UInt64 {
        (0..<rxQueueCount).reduce(0) { $0 &+ rxQueues[$1].droppedFragments }
    }

    // MARK: Packets

    /// ixy's `ixgbe_rx_batch`: walks the ring from `index` while descriptors are done,
    /// swaps a fresh buffer into each, and writes RDT once, to the last descriptor handled.
    @inlinable
    public mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < rxQueueCount, "RX queue \(queue) out of range 0..<\(rxQueueCount)")
        let rx = rxQueues + queue
        let mempool = rx.pointee.mempool
        let capacity = mempool.dataCapacity
        var index = rx.pointee.index
        var last = -1
        var received = 0
        while batch.count < batch.capacity {
            let d = rx.pointee.descriptor(index)
            let status = AdvancedRXDescriptor.statusError(d)
            if status & AdvancedRXDescriptor.STAT_DD == 0 { break }
            MemoryBarrier.read()
            let buffer = rx.pointee.buffers[index].unsafelyUnwrapped
            if status & AdvancedRXDescriptor.STAT_EOP == 0 || rx.pointee.discarding {
                // Part of a frame that spans descriptors: give the same buffer back, and
                // skip up to and including the descriptor with EOP.
                if status & AdvancedRXDescriptor.STAT_EOP == 0 {
                    if !rx.pointee.discarding { rx.pointee.droppedFragments &+= 1 }
                    rx.pointee.discarding = true
                } else {
                    rx.pointee.discarding = false
                }
                AdvancedRXDescriptor.setRead(d, packetAddress: buffer.pointee.dataPhysicalAddress)
            } else {
                // No fresh buffer: leave this descriptor done and stop; the next call retries.
                guard let fresh = mempool.unsafeAllocateHeader() else { break }
                buffer.pointee.length = UInt32(truncatingIfNeeded: min(AdvancedRXDescriptor.length(d), capacity))
                batch.unsafeAppend(buffer)
                rx.pointee.buffers[index] = fresh
                AdvancedRXDescriptor.setRead(d, packetAddress: fresh.pointee.dataPhysicalAddress)
                received &+= 1
            }
            last = index
            index = (index &+ 1) & rx.pointee.mask
        }
        if last >= 0 {
            rx.pointee.index = index
            MemoryBarrier.write()
            controller.registers.write32(IXGBE.RDT(queue), UInt32(truncatingIfNeeded: last))
        }
        return received
    }

    /// ixy's `ixgbe_tx_batch`: frees the buffers of completed clean batches, then fills one
    /// descriptor per frame while the ring has room, and writes TDT once.
    @inlinable
    public mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        precondition(queue >= 0 && queue < txQueueCount, "TX queue \(queue) out of range 0..<\(txQueueCount)")
        let tx = txQueues + queue
        tx.pointee.clean()
        let mask = tx.pointee.mask
        let clean = tx.pointee.cleanIndex
        var index = tx.pointee.index
        var sent = 0
        let count = batch.count
        while sent < count {
            let next = (index &+ 1) & mask
            if next == clean { break }  // ring full: one slot always stays empty
            let buffer = batch.unsafeHeader(at: sent)
            tx.pointee.buffers[index] = buffer
            AdvancedTXDescriptor.setRead(tx.pointee.descriptor(index), bufferAddress: buffer.pointee.dataPhysicalAddress,
                                         length: Int(truncatingIfNeeded: buffer.pointee.length))
            index = next
            sent &+= 1
        }
        if sent > 0 {
            batch.unsafeRemoveFirst(sent)
            tx.pointee.index = index
            MemoryBarrier.write()
            controller.registers.write32(IXGBE.TDT(queue), UInt32(truncatingIfNeeded: index))
        }
        return sent
    }

    @inlinable
    public func hasPendingReceive(queue: Int) -> Bool {
        precondition(queue >= 0 && queue < rxQueueCount, "RX queue \(queue) out of range 0..<\(rxQueueCount)")
        return rxQueues[queue].hasPending
    }

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
        isShutDown = true
        stopAndRelease()
    }

    private func stopAndRelease() {
        controller.stop()
        try? function.disableDMA()
        Self.release(rx: rxQueues, rxCount: rxQueueCount, tx: txQueues, txCount: txQueueCount, allocator: allocator)
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
