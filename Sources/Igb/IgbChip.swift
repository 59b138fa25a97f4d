import IntelNIC
import UIO

/// The 82576 as an `IntelChip`: its registers (`IGB`) with the initialisation steps of the
/// 82576 datasheet's software initialisation chapter (§4.5), one function per step:
/// interrupts off, global reset, EEPROM auto-read, link through the internal PHY,
/// statistics, receive and transmit set-up, INTx through ICR/IMS.
///
/// A plain value around the mapped BAR0: `IgbDevice` keeps one and its hot path uses
/// `registers` directly.
public struct IgbChip<Registers: RegisterAccess>: IntelChip {
    /// The 82576's configuration limits.
    public typealias Limits = IgbLimits
    /// The mapped BAR0.
    public let registers: Registers
    /// Copper (internal PHY) or SerDes, from the device ID.
    public let part: IgbPart
    /// Whether EECD.AUTO_RD was seen after the reset (QEMU's igb never sets it).
    public private(set) var eepromAutoReadDone = false
    /// "igb 0000:00:0e.0", for error messages.
    let name: String

    /// The part of an Intel 82576 device ID, or `UIOError.unsupportedDevice`.
    public static func identify(vendorID: UInt16, deviceID: UInt16) throws -> IgbPart {
        try IgbPart.require(vendor: vendorID, device: deviceID)
    }

    /// The chip around BAR0; the device ID says no more than `part` does.
    public init(registers: Registers, part: IgbPart, deviceID: UInt16, name: String) {
        self.registers = registers
        self.part = part
        self.name = name
    }

    /// The part and the EEPROM as seen, for the opener's log.
    public var setupDetails: [(String, String)] {
        [("part", part == .copper ? "copper" : "serdes"), ("eeprom-auto-read", eepromAutoReadDone ? "done" : "not seen")]
    }

    /// Bound for every wait on a bit the device sets or clears by itself.
    static var hardwareTimeout: Duration { .seconds(1) }
    /// Linux's `AUTO_READ_DONE_TIMEOUT`: how long EECD.AUTO_RD may take after a reset.
    static var eepromAutoReadTimeout: Duration { .milliseconds(10) }

    // MARK: Interrupts off, quiesce, reset

    /// Interrupts masked, DMA quiesced, global reset, then the EEPROM auto-read, which may
    /// not come (`eepromAutoReadDone`).
    public mutating func reset() throws {
        try resetAndMaskInterrupts()
        eepromAutoReadDone = waitForEEPROMAutoRead()
    }

    /// IMC and EIMC mask every cause; EIAC off, so nothing is auto-cleared behind our back.
    func disableInterrupts() {
        registers.write32(IGB.IMC, IGB.IRQ_CLEAR_MASK)
        registers.write32(IGB.EIMC, IGB.IRQ_CLEAR_MASK)
        registers.write32(IGB.EIAC, 0)
    }

    /// Stops DMA before the reset, as Linux's `e1000_reset_hw_82575` does: receive and
    /// transmit off, then GIO master disable, waiting until STATUS.GIO_MASTER_ENABLE clears
    /// (no PCIe request outstanding). A process that crashed may have left the device
    /// running, and a reset in the middle of a DMA can hang the bus. A master that does not
    /// stop in time is reset anyway (Linux does the same): the reset ends its DMA too.
    func quiesce() {
        registers.write32(IGB.RCTL, 0)
        registers.write32(IGB.TCTL, IGB.TCTL_PSP)
        _ = registers.read32(IGB.STATUS)  // flush the posted writes
        registers.setBits32(IGB.CTRL, IGB.CTRL_GIO_MASTER_DISABLE)
        _ = DeviceWait.until(timeout: Self.hardwareTimeout) {
            registers.read32(IGB.STATUS) & IGB.STATUS_GIO_MASTER_ENABLE == 0
        }
        DeviceWait.sleep(.milliseconds(10))
    }

    /// Global reset (CTRL.RST), waiting for it to self-clear, then masks interrupts again
    /// (the reset restores their defaults) and clears any pending cause by reading ICR.
    func resetAndMaskInterrupts() throws {
        disableInterrupts()
        quiesce()
        registers.write32(IGB.CTRL, registers.read32(IGB.CTRL) | IGB.CTRL_RST)
        DeviceWait.sleep(.milliseconds(1))
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IGB.CTRL) & IGB.CTRL_RST == 0 }) else {
            throw UIOError.device("\(name): CTRL.RST did not self-clear within \(Self.hardwareTimeout) of a device reset; check the device with `uioctl status`, or power-cycle it")
        }
        disableInterrupts()
        _ = registers.read32(IGB.ICR)
    }

    /// Waits for the EEPROM auto-read (EECD.AUTO_RD) that follows a reset. Returns whether
    /// it was seen. As in Linux's `e1000_reset_hw_82575`, a missing AUTO_RD is not fatal:
    /// a part without an EEPROM never sets it (QEMU's igb does not model the bit), and the
    /// registers then keep their hardware defaults.
    func waitForEEPROMAutoRead() -> Bool {
        DeviceWait.until(timeout: Self.eepromAutoReadTimeout) { registers.read32(IGB.EECD) & IGB.EECD_AUTO_RD != 0 }
    }

    /// CTRL_EXT.DRV_LOAD: tells the manageability firmware that a driver owns the port.
    func takeOwnership() {
        registers.setBits32(IGB.CTRL_EXT, IGB.CTRL_EXT_DRV_LOAD)
    }

    // MARK: Link

    /// Takes ownership (CTRL_EXT.DRV_LOAD), then for copper parts CTRL.SLU with speed and
    /// duplex left to auto-negotiation, and the internal PHY's control register (BMCR) with
    /// auto-negotiation enabled and restarted, as Linux's `igb_setup_copper_link` does.
    /// SerDes parts only need CTRL.SLU.
    public func initLink() throws {
        takeOwnership()
        let ctrl = registers.read32(IGB.CTRL) & ~(IGB.CTRL_FRCSPD | IGB.CTRL_FRCDPX)
        registers.write32(IGB.CTRL, ctrl | IGB.CTRL_SLU)
        guard part == .copper else { return }
        try writePHY(IGB.PHY_CONTROL, IGB.PHY_CONTROL_AN_ENABLE | IGB.PHY_CONTROL_RESTART_AN
                                        | IGB.PHY_CONTROL_SPEED_1000 | IGB.PHY_CONTROL_FULL_DUPLEX)
    }

    /// One write to a PHY register through MDIC, waiting for MDIC.READY.
    func writePHY(_ register: UInt32, _ value: UInt16) throws {
        registers.write32(IGB.MDIC, UInt32(value) | register << IGB.MDIC_REG_SHIFT
                                    | IGB.PHY_ADDRESS << IGB.MDIC_PHY_SHIFT | IGB.MDIC_OP_WRITE)
        var mdic: UInt32 = 0
        guard DeviceWait.until(timeout: Self.hardwareTimeout, interval: .microseconds(50), {
            mdic = registers.read32(IGB.MDIC)
            return mdic & IGB.MDIC_READY != 0
        }) else {
            throw UIOError.device("\(name): the PHY did not complete an MDIC write to register \(register) within \(Self.hardwareTimeout) (MDIC.READY stayed clear); check the device with `uioctl status`")
        }
        guard mdic & IGB.MDIC_ERROR == 0 else {
            throw UIOError.device("\(name): the PHY refused an MDIC write to register \(register) (MDIC.ERROR set): no PHY at MDIO address \(IGB.PHY_ADDRESS)? A SerDes part needs no PHY set-up")
        }
    }

    /// STATUS.LU, and the speed in STATUS bits 7:6.
    public func readLink() -> LinkStatus {
        let status = registers.read32(IGB.STATUS)
        guard status & IGB.STATUS_LU != 0 else { return LinkStatus(isUp: false, speedMbps: 0) }
        switch status & IGB.STATUS_SPEED_MASK {
        case 0: return LinkStatus(isUp: true, speedMbps: 10)
        case IGB.STATUS_SPEED_100: return LinkStatus(isUp: true, speedMbps: 100)
        default: return LinkStatus(isUp: true, speedMbps: 1_000)
        }
    }

    // MARK: Statistics

    /// The counters since the last read: good packets and octets both ways (octets as the
    /// device counts them, CRC included) and missed packets (MPC: no room in the FIFO or no
    /// free descriptor).
    public func readStatistics() -> DeviceStatistics {
        var s = DeviceStatistics()
        s.rxPackets = UInt64(registers.read32(IGB.GPRC))
        s.txPackets = UInt64(registers.read32(IGB.GPTC))
        // Low half first: reading the high half is what clears the counter.
        s.rxBytes = registers.read64(IGB.GORCL)
        s.txBytes = registers.read64(IGB.GOTCL)
        s.rxDropped = UInt64(registers.read32(IGB.MPC))
        return s
    }

    /// GORC counts from the destination address through the CRC, as GOTC does.
    public static var receiveOctetsIncludeFCS: Bool { true }

    // MARK: Queues

    /// The RX sequence, then the TX one: per RX queue its ring, filled and enabled, before
    /// RCTL.EN; per TX queue its ring, enabled, before TCTL.EN.
    public func startQueues(_ queues: IntelQueues, ringSize: Int) throws {
        initRXGlobal()
        initRSS(queues: queues.rxCount)
        for q in 0..<queues.rxCount {
            initRXQueue(q, ring: queues.rx[q].ring, size: ringSize)
            try queues.fill(rx: q, name: name)
            try startRXQueue(q, size: ringSize)
        }
        enableRX()
        initTXGlobal()
        for q in 0..<queues.txCount { try startTXQueue(q, ring: queues.tx[q].ring, size: ringSize) }
        enableTX()
    }

    /// RDT(q).
    @inlinable public static func rxTail(_ queue: Int) -> Int { IGB.RDT(queue) }
    /// TDT(q).
    @inlinable public static func txTail(_ queue: Int) -> Int { IGB.TDT(queue) }

    // MARK: Receive

    /// Receive off while configuring; an empty multicast table.
    func initRXGlobal() {
        registers.write32(IGB.RCTL, 0)
        for n in 0..<IGB.MTA_COUNT { registers.write32(IGB.MTA(n), 0) }
    }

    /// Receive-side scaling with several RX queues (82576 datasheet §7.1.1.7, Linux
    /// `igb_setup_mrqc`): the RSS key (RSSRK), a redirection table spreading the 128 hash
    /// buckets over the queues round-robin (RETA), MRQC = RSS hashing IPv4 addresses, and TCP
    /// and UDP ports over IPv4, and RXCSUM.PCSD (the write-back carries the hash; QEMU's igb
    /// hashes only with it set). With one queue MRQC stays 0: every frame lands in queue 0.
    func initRSS(queues: Int) {
        guard queues > 1 else {
            registers.write32(IGB.MRQC, 0)
            return
        }
        for (n, word) in IntelRSS.keyRegisters().enumerated() { registers.write32(IGB.RSSRK(n), word) }
        let table = IntelRSS.redirectionRegisters(IntelRSS.redirectionEntries(queues: queues))
        for (n, word) in table.enumerated() { registers.write32(IGB.RETA(n), word) }
        registers.setBits32(IGB.RXCSUM, IGB.RXCSUM_PCSD)
        registers.write32(IGB.MRQC, IGB.MRQC_ENABLE_RSS_MQ | IGB.MRQC_RSS_FIELD_IPV4 | IGB.MRQC_RSS_FIELD_IPV4_TCP
                          | IGB.MRQC_RSS_FIELD_IPV4_UDP)
    }

    /// One queue, before it is enabled: advanced one-buffer descriptors with 2 KB buffers,
    /// dropping frames when the ring is empty, and the ring's address and size. 2 KB holds
    /// any frame: RCTL.LPE stays off, so the device drops frames over 1518 bytes.
    func initRXQueue(_ q: Int, ring: DMARegion, size: Int) {
        registers.clearBits32(IGB.RXDCTL(q), IGB.RXDCTL_ENABLE)
        let srrctl = registers.read32(IGB.SRRCTL(q)) & ~IGB.SRRCTL_DESCTYPE_MASK & ~IGB.SRRCTL_BSIZEPKT_MASK
        registers.write32(IGB.SRRCTL(q), srrctl | IGB.SRRCTL_DESCTYPE_ADV_ONEBUF | IGB.SRRCTL_DROP_EN
                          | UInt32(2048) >> IGB.SRRCTL_BSIZEPKT_SHIFT)
        registers.write32(IGB.RDBAL(q), UInt32(truncatingIfNeeded: ring.physicalAddress))
        registers.write32(IGB.RDBAH(q), UInt32(truncatingIfNeeded: ring.physicalAddress >> 32))
        registers.write32(IGB.RDLEN(q), UInt32(size * AdvancedRXDescriptor.size))
        registers.write32(IGB.RDH(q), 0)
        registers.write32(IGB.RDT(q), 0)
    }

    /// Enables a queue whose ring is already filled, waits for RXDCTL.ENABLE to read back,
    /// then hands the device every descriptor but one (RDT = size - 1).
    func startRXQueue(_ q: Int, size: Int) throws {
        registers.setBits32(IGB.RXDCTL(q), IGB.RXDCTL_ENABLE)
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IGB.RXDCTL(q)) & IGB.RXDCTL_ENABLE != 0 }) else {
            throw UIOError.device("\(name): RX queue \(q) did not enable (RXDCTL.ENABLE did not read back within \(Self.hardwareTimeout))")
        }
        MemoryBarrier.write()
        registers.write32(IGB.RDT(q), UInt32(size - 1))
    }

    /// Receive on: broadcast accepted, the CRC stripped (so frames and counts match what
    /// the other drivers deliver).
    func enableRX() {
        registers.write32(IGB.RCTL, IGB.RCTL_EN | IGB.RCTL_BAM | IGB.RCTL_SECRC)
    }

    // MARK: Transmit

    /// Transmit off while configuring, short frames padded, Linux's collision settings.
    func initTXGlobal() {
        registers.write32(IGB.TCTL, IGB.TCTL_PSP | IGB.TCTL_CT_DEFAULT | IGB.TCTL_COLD_DEFAULT)
    }

    /// One queue: ring address and size, empty ring (TDH = TDT = 0), Linux's thresholds
    /// for INTx mode (PTHRESH 8, HTHRESH 1, WTHRESH 16), then TXDCTL.ENABLE.
    func startTXQueue(_ q: Int, ring: DMARegion, size: Int) throws {
        registers.write32(IGB.TXDCTL(q), 0)
        registers.write32(IGB.TDBAL(q), UInt32(truncatingIfNeeded: ring.physicalAddress))
        registers.write32(IGB.TDBAH(q), UInt32(truncatingIfNeeded: ring.physicalAddress >> 32))
        registers.write32(IGB.TDLEN(q), UInt32(size * AdvancedTXDescriptor.size))
        registers.write32(IGB.TDH(q), 0)
        registers.write32(IGB.TDT(q), 0)
        registers.write32(IGB.TXDCTL(q), IGB.TXDCTL_ENABLE | 8 | 1 << 8 | 16 << 16)
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IGB.TXDCTL(q)) & IGB.TXDCTL_ENABLE != 0 }) else {
            throw UIOError.device("\(name): TX queue \(q) did not enable (TXDCTL.ENABLE did not read back within \(Self.hardwareTimeout))")
        }
    }

    func enableTX() {
        registers.setBits32(IGB.TCTL, IGB.TCTL_EN)
    }

    // MARK: Interrupts, legacy INTx as uio_pci_generic provides

    /// Not in MSI-X mode, so that ICR drives INTx and reading it clears it; EITR[0]
    /// throttles INTx. Only the link status change is unmasked here; RX is unmasked by
    /// `enableInterrupt` when the application sleeps. Every RX queue shares ICR.RXDW.
    public func initInterrupts(rxQueues: Int, throttleMicroseconds: Int) {
        registers.clearBits32(IGB.GPIE, IGB.GPIE_MSIX_MODE)
        registers.write32(IGB.EITR(0), UInt32(throttleMicroseconds) << 2 & IGB.EITR_INTERVAL_MASK)
        _ = registers.read32(IGB.ICR)
        registers.write32(IGB.IMS, IGB.ICR_LSC)
    }

    /// With INTx (no MSI-X) every RX queue shares one cause, ICR.RXDW (QEMU's igb drives
    /// INTx from ICR & IMS alone). One owner clears a stale RXDW (write 1 to clear), unmasks
    /// it (IMS) and masks it (IMC). With several detached pairs a pair only unmasks it, never
    /// clears or masks it, or it would silence the queues asleep (see `IntelQueueInterrupt`);
    /// the interrupt thread reads ICR and the waker wakes the queues whose ring has a frame.
    public func receiveInterrupt(queue: Int, owners: Int) -> IntelQueueInterrupt {
        owners == 1
            ? IntelQueueInterrupt(clearCause: IGB.ICR, unmask: IGB.IMS, mask: IGB.IMC, bits: IGB.ICR_RXDW)
            : IntelQueueInterrupt(clearCause: nil, unmask: IGB.IMS, mask: nil, bits: IGB.ICR_RXDW)
    }

    /// Reads ICR, which clears it outside MSI-X mode and deasserts INTx. RXDW stands for
    /// every RX queue; LSC is a link change.
    public func readInterruptCauses(rxQueues: Int) -> InterruptCauses {
        let icr = registers.read32(IGB.ICR)
        var causes = InterruptCauses()
        if icr & IGB.ICR_RXDW != 0 { causes.queues = rxQueues >= 64 ? ~0 : (1 << UInt64(rxQueues)) - 1 }
        causes.linkChanged = icr & IGB.ICR_LSC != 0
        return causes
    }

    // MARK: Promiscuous mode

    /// RCTL.UPE and RCTL.MPE: accept every unicast and multicast frame.
    public static var promiscuousBits: (register: Int, bits: UInt32) { (IGB.RCTL, IGB.RCTL_UPE | IGB.RCTL_MPE) }

    // MARK: Shutdown

    /// Queues off, interrupts masked, quiesced and reset: afterwards the device does no DMA.
    public func stop(rxQueues: Int, txQueues: Int) {
        for q in 0..<rxQueues { registers.clearBits32(IGB.RXDCTL(q), IGB.RXDCTL_ENABLE) }
        for q in 0..<txQueues { registers.clearBits32(IGB.TXDCTL(q), IGB.TXDCTL_ENABLE) }
        try? resetAndMaskInterrupts()
        registers.clearBits32(IGB.CTRL_EXT, IGB.CTRL_EXT_DRV_LOAD)
    }

    /// RAL(0) and RAH(0), which the device loads from the EEPROM.
    public static var macAddressRegisters: (low: Int, high: Int) { (IGB.RAL(0), IGB.RAH(0)) }
}
