import IntelNIC
import UIO

/// The 82599 and X540 as an `IntelChip`: their registers (`IXGBE`) with the
/// initialisation steps of 82599 datasheet §4.6, one function per step and named as ixy
/// names them, so that the code can be held against the manual.
///
/// A plain value around the mapped BAR0: `IxgbeDevice` keeps one and its hot path uses
/// `registers` directly.
public struct IxgbeChip<Registers: RegisterAccess>: IntelChip {
    /// The 82599's configuration limits.
    public typealias Limits = IxgbeLimits
    /// The mapped BAR0.
    public let registers: Registers
    /// 82599 or X540, from the device ID.
    public let family: IxgbeFamily
    /// The PCI device ID, which says how the board is wired (SFP+, backplane, CX4...).
    let deviceID: UInt16
    /// "ixgbe 0000:01:00.0", for error messages.
    let name: String

    /// The family of an Intel 82599 or X540 device ID, or `UIOError.unsupportedDevice`.
    public static func identify(vendorID: UInt16, deviceID: UInt16) throws -> IxgbeFamily {
        try IxgbeFamily.require(vendor: vendorID, device: deviceID)
    }

    /// The chip around BAR0; `deviceID` says how the board's link is wired (`initLink`).
    public init(registers: Registers, part: IxgbeFamily, deviceID: UInt16, name: String) {
        self.registers = registers
        self.family = part
        self.deviceID = deviceID
        self.name = name
    }

    /// The family, for the opener's log.
    public var setupDetails: [(String, String)] { [("family", family.rawValue)] }

    /// Bound for every wait on a bit the device sets or clears by itself.
    static var hardwareTimeout: Duration { .seconds(1) }

    // MARK: §4.6.3 Initialization sequence: reset

    /// §4.6.3: the stop sequence and a global reset, then the wait for the NVM and the DMA
    /// engine.
    public mutating func reset() throws {
        try resetAndMaskInterrupts()
        try waitForEEPROMAndDMAInit()
    }

    /// §4.6.3.1 and §4.6.3.2 after the stop sequence: a global reset (CTRL.RST with
    /// CTRL.LNK_RST), wait for it to self-clear, let the device settle for 50 ms (as Linux's
    /// `ixgbe_reset_hw_82599` does), and mask interrupts again, since the reset restores
    /// their defaults. The reset is how the driver takes over a device a crashed process left
    /// running, so it is preceded by `stopAdapter`: with DMA in flight, a reset alone can
    /// leave the PCIe bus with requests the device no longer completes.
    func resetAndMaskInterrupts() throws {
        let masterDisabled = stopAdapter()
        try globalReset()
        // §5.2.5.3.2: if master requests were still pending, a second reset clears whatever
        // their completions did to the device after the first (Linux does the same).
        if !masterDisabled { try globalReset() }
        disableInterrupts()
    }

    private func globalReset() throws {
        registers.write32(IXGBE.CTRL, registers.read32(IXGBE.CTRL) | IXGBE.CTRL_RST_MASK)
        // §4.6.3.2: no register access for 1 ms after setting CTRL.RST.
        DeviceWait.sleep(.milliseconds(1))
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IXGBE.CTRL) & IXGBE.CTRL_RST_MASK == 0 }) else {
            throw UIOError.device("\(name): CTRL.RST did not self-clear within \(Self.hardwareTimeout) of a global reset (82599 datasheet §4.6.3.2); check the device with `uioctl status`, or power-cycle it")
        }
        DeviceWait.sleep(Self.resetSettleTime)
    }

    /// How long the device is left alone after a reset (Linux: 50 ms).
    static var resetSettleTime: Duration { .milliseconds(50) }

    /// Linux's stop-adapter path (`ixgbe_stop_adapter_generic`), then the master disable of
    /// §5.2.5.3.2: receive off, interrupts masked and their causes cleared, every TX queue
    /// stopped with a write-back flush (TXDCTL.SWFLSH), every RX queue disabled, and once
    /// they read back disabled, CTRL.GIO_DIS until STATUS.GIO says no master request is
    /// pending. All 128 queues: a previous owner may have used any of them. Returns false
    /// if master requests were still pending when the wait ran out.
    func stopAdapter() -> Bool {
        registers.clearBits32(IXGBE.RXCTRL, IXGBE.RXCTRL_RXEN)
        disableInterrupts()
        _ = registers.read32(IXGBE.EICR)
        for q in 0..<IXGBE.hardwareQueues { registers.write32(IXGBE.TXDCTL(q), IXGBE.TXDCTL_SWFLSH) }
        for q in 0..<IXGBE.hardwareQueues {
            let rxdctl = registers.read32(IXGBE.RXDCTL(q))
            registers.write32(IXGBE.RXDCTL(q), rxdctl & ~IXGBE.RXDCTL_ENABLE | IXGBE.RXDCTL_SWFLSH)
        }
        // Linux sleeps 1–2 ms here; the queues report when they have stopped, so wait for that.
        DeviceWait.sleep(.milliseconds(1))
        _ = DeviceWait.until(timeout: Self.hardwareTimeout) {
            (0..<IXGBE.hardwareQueues).allSatisfy { q in
                registers.read32(IXGBE.RXDCTL(q)) & IXGBE.RXDCTL_ENABLE == 0
                    && registers.read32(IXGBE.TXDCTL(q)) & IXGBE.TXDCTL_ENABLE == 0
            }
        }
        registers.setBits32(IXGBE.CTRL, IXGBE.CTRL_GIO_DIS)
        // Linux polls 800 times 100 µs.
        return DeviceWait.until(timeout: .milliseconds(80), interval: .microseconds(100)) {
            registers.read32(IXGBE.STATUS) & IXGBE.STATUS_GIO == 0
        }
    }

    /// §4.6.3: waits for the EEPROM auto-read (EEC.ARD) and for the DMA init cycle
    /// (RDRXCTL.DMAIDONE) before anything else is programmed.
    func waitForEEPROMAndDMAInit() throws {
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IXGBE.EEC) & IXGBE.EEC_ARD != 0 }) else {
            throw UIOError.device("\(name): EEPROM auto-read not done (EEC.ARD clear) \(Self.hardwareTimeout) after reset (82599 datasheet §4.6.3); the NVM may be blank or corrupt")
        }
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IXGBE.RDRXCTL) & IXGBE.RDRXCTL_DMAIDONE != 0 }) else {
            throw UIOError.device("\(name): receive DMA init not done (RDRXCTL.DMAIDONE clear) \(Self.hardwareTimeout) after reset (82599 datasheet §4.6.3)")
        }
    }

    /// §4.6.3.1: EIMC masks every cause.
    func disableInterrupts() {
        registers.write32(IXGBE.EIMC, IXGBE.IRQ_CLEAR_MASK)
    }

    // MARK: §4.6.4 Link

    /// §4.6.4: an SFP+ port gets 10 Gb/s serial (SFI) link mode and an auto-negotiation
    /// restart, every other AUTOC bit as the EEPROM loaded it (Linux
    /// `ixgbe_setup_sfp_modules_82599` sets LMS to 10G serial the same way). KX4, KR, CX4,
    /// backplane and XAUI boards keep the link mode their EEPROM gave, which is what their
    /// wiring needs, and the link comes up by itself after the reset. The X540's copper PHY
    /// negotiates by itself.
    public func initLink() {
        guard family == .i82599, IxgbeFamily.sfpDeviceIDs.contains(deviceID) else { return }
        let mode = registers.read32(IXGBE.AUTOC) & ~IXGBE.AUTOC_LMS_MASK | IXGBE.AUTOC_LMS_10G_SERIAL
        registers.write32(IXGBE.AUTOC, mode)
        registers.write32(IXGBE.AUTOC, mode | IXGBE.AUTOC_AN_RESTART)
    }

    /// LINKS.LINK_UP and the speed in LINKS bits 29:28.
    public func readLink() -> LinkStatus {
        let links = registers.read32(IXGBE.LINKS)
        guard links & IXGBE.LINKS_UP != 0 else { return LinkStatus(isUp: false, speedMbps: 0) }
        switch links & IXGBE.LINKS_SPEED_82599 {
        case IXGBE.LINKS_SPEED_100_82599: return LinkStatus(isUp: true, speedMbps: 100)
        case IXGBE.LINKS_SPEED_1G_82599: return LinkStatus(isUp: true, speedMbps: 1_000)
        case IXGBE.LINKS_SPEED_10G_82599: return LinkStatus(isUp: true, speedMbps: 10_000)
        default: return LinkStatus(isUp: true, speedMbps: 0)
        }
    }

    // MARK: §4.6.5 Statistics

    /// The counters since the last read (§8.2.3.23).
    ///
    /// Receive comes from the 16 per-queue counters, which count what reached host memory,
    /// as DPDK's ixgbe PMD reports it: GPRC and GORC count every frame placed in the packet
    /// buffer, those a queue then dropped included, and on the 82599 GPRC counts even the
    /// missed packets that never got there (Linux subtracts MPC from it). QBRC leaves out the
    /// CRC the device strips. Dropped frames are the missed ones (MPC, per packet buffer)
    /// and those the queues dropped for lack of descriptors (QPRDC, with SRRCTL.DROP_EN,
    /// which this driver sets), which MPC does not count. Transmit comes from GPTC and GOTC,
    /// octets with the CRC. Oversize frames the device discarded come from ROC.
    public func readStatistics() -> DeviceStatistics {
        var s = DeviceStatistics()
        for n in 0..<IXGBE.queueStatCounters {
            s.rxPackets &+= UInt64(registers.read32(IXGBE.QPRC(n)))
            // Low half first: reading the high half is what clears the 36-bit counter.
            s.rxBytes &+= registers.read64(IXGBE.QBRC_L(n))
            s.rxDropped &+= UInt64(registers.read32(IXGBE.QPRDC(n)))
        }
        for n in 0..<8 { s.rxDropped &+= UInt64(registers.read32(IXGBE.MPC(n))) }
        s.txPackets = UInt64(registers.read32(IXGBE.GPTC))
        s.txBytes = registers.read64(IXGBE.GOTCL)
        // Read to clear, though unused: they stick at their maximum rather than wrap.
        _ = registers.read32(IXGBE.GPRC)
        _ = registers.read64(IXGBE.GORCL)
        s.rxOversize = UInt64(registers.read32(IXGBE.ROC))
        return s
    }

    /// QBRC leaves out the CRC the device strips (GOTC, on transmit, counts it).
    public static var receiveOctetsIncludeFCS: Bool { false }

    // MARK: §4.6.7, §4.6.8 Queues

    /// §4.6.7 receive and §4.6.8 transmit set-up for every queue, transmit on, then each RX
    /// ring filled and started, receive switched on once the queues are (Linux does the
    /// same), and the TX queues started.
    public func startQueues(_ queues: IntelQueues, ringSize: Int) throws {
        initRXGlobal()
        initRSS(queues: queues.rxCount)
        for q in 0..<queues.rxCount { initRXQueue(q, ring: queues.rx[q].ring, size: ringSize) }
        initTXGlobal()
        for q in 0..<queues.txCount { initTXQueue(q, ring: queues.tx[q].ring, size: ringSize) }
        enableTX()
        for q in 0..<queues.rxCount {
            try queues.fill(rx: q, name: name)
            try startRXQueue(q, size: ringSize)
        }
        enableRX()
        for q in 0..<queues.txCount { try startTXQueue(q) }
    }

    /// RDT(q).
    @inlinable public static func rxTail(_ queue: Int) -> Int { IXGBE.RDT(queue) }
    /// TDT(q).
    @inlinable public static func txTail(_ queue: Int) -> Int { IXGBE.TDT(queue) }

    // MARK: §4.6.7 Receive initialization

    /// §4.6.7 for the global part: receive off while configuring, one 128 KB packet buffer
    /// (no DCB or virtualisation), CRC stripping, broadcast accepted.
    func initRXGlobal() {
        registers.clearBits32(IXGBE.RXCTRL, IXGBE.RXCTRL_RXEN)
        registers.write32(IXGBE.RXPBSIZE(0), IXGBE.RXPBSIZE_128KB)
        for n in 1..<8 { registers.write32(IXGBE.RXPBSIZE(n), 0) }
        // §4.6.7: HLREG0.RXCRCSTRP and RDRXCTL.CRCSTRIP must agree. §8.2.3.8.8: software
        // clears RDRXCTL.RSCFRSTSIZE (0x8 at reset) and sets RSCACKC and FCOE_WRFIX (0).
        registers.setBits32(IXGBE.HLREG0, IXGBE.HLREG0_RXCRCSTRP)
        let rdrxctl = registers.read32(IXGBE.RDRXCTL) & ~IXGBE.RDRXCTL_RSCFRSTSIZE
        registers.write32(IXGBE.RDRXCTL, rdrxctl | IXGBE.RDRXCTL_CRCSTRIP | IXGBE.RDRXCTL_RSCACKC | IXGBE.RDRXCTL_FCOE_WRFIX)
        registers.setBits32(IXGBE.FCTRL, IXGBE.FCTRL_BAM)
    }

    /// §4.6.7 "Receive Side Scaling" (and §7.1.2.8): with several RX queues, the RSS key
    /// (RSSRK), a redirection table spreading the 128 hash buckets over the queues
    /// round-robin (RETA), and MRQC with MRQE = RSS hashing IPv4 addresses, and TCP and UDP
    /// ports over IPv4 where present. RXCSUM.PCSD puts the hash in the write-back, as Linux
    /// does. RETA entries have 4 bits: RSS reaches queues 0…15 only. With one queue MRQC stays
    /// 0 and every frame lands in queue 0.
    func initRSS(queues: Int) {
        guard queues > 1 else {
            registers.write32(IXGBE.MRQC, 0)
            return
        }
        for (n, word) in IntelRSS.keyRegisters().enumerated() { registers.write32(IXGBE.RSSRK(n), word) }
        let table = IntelRSS.redirectionRegisters(IntelRSS.redirectionEntries(queues: min(queues, 16)))
        for (n, word) in table.enumerated() { registers.write32(IXGBE.RETA(n), word) }
        registers.setBits32(IXGBE.RXCSUM, IXGBE.RXCSUM_PCSD)
        registers.write32(IXGBE.MRQC, IXGBE.MRQC_RSSEN | IXGBE.MRQC_RSS_FIELD_IPV4 | IXGBE.MRQC_RSS_FIELD_IPV4_TCP
                          | IXGBE.MRQC_RSS_FIELD_IPV4_UDP)
    }

    /// §4.6.7.1 for one queue, before it is enabled: advanced one-buffer descriptors with
    /// 2 KB buffers, dropping frames when the ring is empty, and the ring's address and size.
    ///
    /// 2 KB holds any frame: HLREG0.JUMBOEN stays off, so the device discards frames longer
    /// than 1518 bytes (1522 with a VLAN tag) and a frame never spans two descriptors.
    func initRXQueue(_ q: Int, ring: DMARegion, size: Int) {
        let srrctl = registers.read32(IXGBE.SRRCTL(q))
            & ~IXGBE.SRRCTL_DESCTYPE_MASK & ~IXGBE.SRRCTL_BSIZEPKT_MASK
        registers.write32(IXGBE.SRRCTL(q), srrctl | IXGBE.SRRCTL_DESCTYPE_ADV_ONEBUF | IXGBE.SRRCTL_DROP_EN
                          | UInt32(2048 >> IXGBE.SRRCTL_BSIZEPKT_SHIFT))
        registers.write32(IXGBE.RDBAL(q), UInt32(truncatingIfNeeded: ring.physicalAddress))
        registers.write32(IXGBE.RDBAH(q), UInt32(truncatingIfNeeded: ring.physicalAddress >> 32))
        registers.write32(IXGBE.RDLEN(q), UInt32(size * AdvancedRXDescriptor.size))
        registers.write32(IXGBE.RDH(q), 0)
        registers.write32(IXGBE.RDT(q), 0)
        // §8.2.3.11.1: DCA_RXCTRL bit 12 is reserved, resets to 1, and must be cleared.
        registers.clearBits32(IXGBE.DCA_RXCTRL(q), IXGBE.DCA_RXCTRL_RESERVED_BIT12)
    }

    /// The end of §4.6.7: CTRL_EXT.NS_DIS (no snoop off), then receive on through the 82599
    /// errata sequence (Linux `ixgbe_enable_rx_dma_82599`): with traffic arriving, setting
    /// RXCTRL.RXEN can hang the RX DMA unless the security RX path is stopped (SECRXCTRL.
    /// RX_DIS) and drained (SECRXSTAT.SECRX_RDY) first; then the path is restarted.
    func enableRX() {
        registers.setBits32(IXGBE.CTRL_EXT, IXGBE.CTRL_EXT_NS_DIS)
        registers.setBits32(IXGBE.SECRXCTRL, IXGBE.SECRXCTRL_RX_DIS)
        // Linux waits up to 40 ms and goes on either way (the bit is only informational then).
        _ = DeviceWait.until(timeout: .milliseconds(40)) {
            registers.read32(IXGBE.SECRXSTAT) & IXGBE.SECRXSTAT_SECRX_RDY != 0
        }
        registers.setBits32(IXGBE.RXCTRL, IXGBE.RXCTRL_RXEN)
        registers.clearBits32(IXGBE.SECRXCTRL, IXGBE.SECRXCTRL_RX_DIS)
    }

    /// §4.6.7.1: enables a queue whose ring is already filled, waits for RXDCTL.ENABLE to
    /// read back, then hands the device every descriptor but one (RDT = size - 1).
    func startRXQueue(_ q: Int, size: Int) throws {
        registers.setBits32(IXGBE.RXDCTL(q), IXGBE.RXDCTL_ENABLE)
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IXGBE.RXDCTL(q)) & IXGBE.RXDCTL_ENABLE != 0 }) else {
            throw UIOError.device("\(name): RX queue \(q) did not enable (RXDCTL.ENABLE did not read back within \(Self.hardwareTimeout), 82599 datasheet §4.6.7.1)")
        }
        registers.write32(IXGBE.RDH(q), 0)
        MemoryBarrier.write()
        registers.write32(IXGBE.RDT(q), UInt32(size - 1))
    }

    // MARK: §4.6.8 Transmit initialization

    /// §4.6.8 and §4.6.11.3.4 for the global part: CRC insertion and padding of short
    /// frames, one 40 KB packet buffer, the largest DMA read requests, and the descriptor
    /// arbiter disabled while queues are configured.
    func initTXGlobal() {
        registers.setBits32(IXGBE.HLREG0, IXGBE.HLREG0_TXCRCEN | IXGBE.HLREG0_TXPADEN)
        registers.write32(IXGBE.TXPBSIZE(0), IXGBE.TXPBSIZE_40KB)
        for n in 1..<8 { registers.write32(IXGBE.TXPBSIZE(n), 0) }
        registers.write32(IXGBE.DTXMXSZRQ, IXGBE.DTXMXSZRQ_MAX)
        registers.setBits32(IXGBE.RTTDCS, IXGBE.RTTDCS_ARBDIS)
    }

    /// §4.6.8 for one queue: ring address and size, and the thresholds ixy uses
    /// (PTHRESH 36, HTHRESH 8, WTHRESH 4: prefetch early, write back DD in groups).
    func initTXQueue(_ q: Int, ring: DMARegion, size: Int) {
        registers.write32(IXGBE.TDBAL(q), UInt32(truncatingIfNeeded: ring.physicalAddress))
        registers.write32(IXGBE.TDBAH(q), UInt32(truncatingIfNeeded: ring.physicalAddress >> 32))
        registers.write32(IXGBE.TDLEN(q), UInt32(size * AdvancedTXDescriptor.size))
        let txdctl = registers.read32(IXGBE.TXDCTL(q)) & ~IXGBE.TXDCTL_THRESHOLD_MASK
        registers.write32(IXGBE.TXDCTL(q), txdctl | 36 | 8 << 8 | 4 << 16)
    }

    /// The end of §4.6.8: the arbiter back on, then transmit DMA on (DMATXCTL.TE).
    func enableTX() {
        registers.clearBits32(IXGBE.RTTDCS, IXGBE.RTTDCS_ARBDIS)
        registers.setBits32(IXGBE.DMATXCTL, IXGBE.DMATXCTL_TE)
    }

    /// §4.6.8.1: empty ring (TDH = TDT = 0), then TXDCTL.ENABLE and wait for it to read back.
    func startTXQueue(_ q: Int) throws {
        registers.write32(IXGBE.TDH(q), 0)
        registers.write32(IXGBE.TDT(q), 0)
        registers.setBits32(IXGBE.TXDCTL(q), IXGBE.TXDCTL_ENABLE)
        guard DeviceWait.until(timeout: Self.hardwareTimeout, { registers.read32(IXGBE.TXDCTL(q)) & IXGBE.TXDCTL_ENABLE != 0 }) else {
            throw UIOError.device("\(name): TX queue \(q) did not enable (TXDCTL.ENABLE did not read back within \(Self.hardwareTimeout), 82599 datasheet §4.6.8.1)")
        }
    }

    // MARK: Interrupts (§7.3), legacy INTx as uio_pci_generic provides

    /// No MSI-X: GPIE not in MSI-X mode (so EICR is read-to-clear and no auto-masking),
    /// each RX queue q mapped by IVAR to EICR cause bit q mod 16, EITR throttling, and the
    /// link status change cause enabled. Queue causes stay masked until `enableInterrupt`.
    public func initInterrupts(rxQueues: Int, throttleMicroseconds: Int) {
        registers.clearBits32(IXGBE.GPIE, IXGBE.GPIE_MSIX_MODE | IXGBE.GPIE_EIAME)
        registers.write32(IXGBE.EIAC, 0)
        let interval = UInt32(throttleMicroseconds / 2) << 3 & IXGBE.EITR_ITR_INT_MASK
        for q in 0..<rxQueues {
            // RX entry of queue q: byte 0 (even q) or byte 2 (odd q) of IVAR(q / 2).
            let shift = UInt32(16 * (q & 1))
            let entry = (UInt32(q & 15) | IXGBE.IVAR_ALLOC_VAL) << shift
            let ivar = registers.read32(IXGBE.IVAR(q / 2)) & ~(0xFF << shift)
            registers.write32(IXGBE.IVAR(q / 2), ivar | entry)
            // Legacy and MSI interrupts are throttled by EITR[0]; the rest matter in MSI-X mode.
            registers.write32(IXGBE.EITR(q), interval | IXGBE.EITR_CNT_WDIS)
        }
        _ = registers.read32(IXGBE.EICR)
        registers.write32(IXGBE.EIMS, IXGBE.EICR_LSC)
    }

    /// Queue q's own EICR cause, bit q mod 16 (IVAR maps it), whatever the owners: write 1
    /// to EICR clears it (§8.2.3.5.1), EIMS unmasks it, EIMC masks it. With 16 queues or
    /// more, queues q and q + 16 share a cause bit.
    public func receiveInterrupt(queue: Int, owners: Int) -> IntelQueueInterrupt {
        IntelQueueInterrupt(clearCause: IXGBE.EICR, unmask: IXGBE.EIMS, mask: IXGBE.EIMC, bits: 1 << UInt32(queue & 15))
    }

    /// Reads EICR, which clears it (not in MSI-X mode, §8.2.3.5.1) and deasserts INTx. Bits
    /// 15:0 are the queue causes, bit 20 a link status change.
    public func readInterruptCauses(rxQueues: Int) -> InterruptCauses {
        let eicr = registers.read32(IXGBE.EICR)
        var causes = InterruptCauses()
        for q in 0..<rxQueues where eicr & (1 << UInt32(q & 15)) != 0 { causes.queues |= 1 << UInt64(q) }
        causes.linkChanged = eicr & IXGBE.EICR_LSC != 0
        return causes
    }

    // MARK: Promiscuous mode

    /// FCTRL.UPE and FCTRL.MPE: accept every unicast and multicast frame.
    public static var promiscuousBits: (register: Int, bits: UInt32) { (IXGBE.FCTRL, IXGBE.FCTRL_UPE | IXGBE.FCTRL_MPE) }

    // MARK: Shutdown

    /// The stop sequence (every one of the 128 queues, whatever `rxQueues` and `txQueues`)
    /// and a global reset, as at init: afterwards the device does no DMA. Nothing is thrown: a reset that does not complete is all that could go wrong, and the
    /// caller clears Bus Master next anyway.
    public func stop(rxQueues: Int, txQueues: Int) {
        let masterDisabled = stopAdapter()
        try? globalReset()
        if !masterDisabled { try? globalReset() }
        disableInterrupts()
    }

    /// RAL(0) and RAH(0) (§8.2.3.7.9–10): receive address 0, loaded from the EEPROM.
    public static var macAddressRegisters: (low: Int, high: Int) { (IXGBE.RAL(0), IXGBE.RAH(0)) }
}
