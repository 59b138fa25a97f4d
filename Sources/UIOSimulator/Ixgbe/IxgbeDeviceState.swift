/// Everything a simulated 82599 remembers: registers, queues, interrupt causes, statistics,
/// link, and the frames on their way in and out. `IxgbeModel` keeps it behind a lock; the
/// register decoder, interrupts and datapath are extensions in their own files.
struct IxgbeDeviceState {
    typealias L = IxgbeModelLayout

    struct RXQueue {
        var rdbal: UInt32 = 0
        var rdbah: UInt32 = 0
        var rdlen: UInt32 = 0
        var rdh: UInt32 = 0
        var rdt: UInt32 = 0
        /// As written; ENABLE reads as `enabled`, which follows the write after a delay.
        var rxdctl: UInt32 = 0
        var srrctl: UInt32 = L.SRRCTL_DEFAULT
        var dcaRXCtrl: UInt32 = L.DCA_RXCTRL_DEFAULT
        /// Whether the queue runs: RXDCTL.ENABLE as it has taken effect (§4.6.7.1: software
        /// polls until it reads back).
        var enabled = false
        /// RXDCTL reads left before a written ENABLE change takes effect (0: none pending).
        var enableReadsLeft = 0

        var base: UInt64 { UInt64(rdbah) << 32 | UInt64(rdbal) }
        var size: Int { Int(rdlen) / L.descriptorSize }
        var enableWritten: Bool { rxdctl & L.RXDCTL_ENABLE != 0 }
        /// SRRCTL.BSIZEPACKET in bytes.
        var bufferSize: Int { Int(srrctl & L.SRRCTL_BSIZEPACKET_MASK) * L.SRRCTL_BSIZEPACKET_UNIT }
    }

    struct TXQueue {
        var tdbal: UInt32 = 0
        var tdbah: UInt32 = 0
        var tdlen: UInt32 = 0
        var tdh: UInt32 = 0
        var tdt: UInt32 = 0
        var txdctl: UInt32 = 0
        /// TXDCTL.ENABLE as it has taken effect (§4.6.8.1).
        var enabled = false
        var enableReadsLeft = 0

        var base: UInt64 { UInt64(tdbah) << 32 | UInt64(tdbal) }
        var size: Int { Int(tdlen) / L.descriptorSize }
        var enableWritten: Bool { txdctl & L.TXDCTL_ENABLE != 0 }
    }

    /// The read-to-clear counters of §8.2.3.23 that the model keeps. §8.2.3.23 opens with the
    /// rule the receive counters follow: a packet counts as received once it has passed the
    /// filters and is placed in the packet buffer; it need not reach host memory.
    struct Statistics {
        /// GPRC (§8.2.3.23, 0x04074): good packets received, those later dropped included. On the
        /// 82599 it also counts missed packets (MPC) that never got into the packet buffer: a
        /// silicon quirk that Linux's and FreeBSD's `ixgbe_update_stats` undo ("hardware
        /// workaround, gprc counts missed packets").
        var gprc: UInt64 = 0
        /// GPTC (§8.2.3.23, 0x04080): good packets transmitted.
        var gptc: UInt64 = 0
        /// GORC (§8.2.3.23, 0x04088/0x0408C): octets of the packets placed in the packet buffer, from the
        /// destination address through the CRC, but without the CRC when HLREG0.RXCRCSTRP
        /// strips it (DPDK's ixgbe PMD: "RX byte count not including CRC bytes when CRC strip
        /// is enabled"). Missed packets add nothing.
        var gorc: UInt64 = 0
        /// GOTC (§8.2.3.23, 0x04090/0x04094): octets transmitted, CRC included (TX inserts it).
        var gotc: UInt64 = 0
        /// What a read of GORCL/GOTCL reported, so the matching high read clears exactly that.
        var gorcLatched: UInt64?
        var gotcLatched: UInt64?
        /// ROC (§8.2.3.23, 0x040AC): oversize frames.
        var roc: UInt64 = 0
        /// MPC(n) (§8.2.3.23, 0x03FA0 + 4n): packets missed for lack of packet-buffer space, which is what a
        /// full ring without SRRCTL.DROP_EN leads to. The model has one packet buffer (0).
        var mpc = [UInt64](repeating: 0, count: L.PACKET_BUFFERS)
        /// QPRC(n) (§8.2.3.23, 0x01030 + 0x40n): packets a queue wrote to host memory, per RQSMR counter.
        var qprc = [UInt64](repeating: 0, count: L.QUEUE_STAT_COUNTERS)
        /// QBRC(n) (§8.2.3.23, 0x01034/0x01038 + 0x40n): their octets, CRC as for GORC.
        var qbrc = [UInt64](repeating: 0, count: L.QUEUE_STAT_COUNTERS)
        var qbrcLatched = [UInt64?](repeating: nil, count: L.QUEUE_STAT_COUNTERS)
        /// QPRDC(n) (§8.2.3.23, 0x01430 + 0x40n): packets a queue with SRRCTL.DROP_EN dropped because it had
        /// no free descriptor. They are not missed packets: MPC does not count them.
        var qprdc = [UInt64](repeating: 0, count: L.QUEUE_STAT_COUNTERS)
        /// QPTC(n) (§8.2.3.23, 0x06030 + 0x40n): packets transmitted per TQSM counter.
        var qptc = [UInt64](repeating: 0, count: L.QUEUE_STAT_COUNTERS)
    }

    /// Auto-negotiation in progress: when the link will come up.
    enum LinkTimer {
        case steps(Int)
        case deadline(Duration)
    }

    let configuration: IxgbeModel.Configuration
    let dma: SimulatedDMA
    let pci: SimulatedConfigSpace
    var clock: SimulatedClock { configuration.clock }

    // Registers with behaviour.
    var ctrl: UInt32 = 0
    /// CTRL reads that still show RST/LNK_RST before they self-clear.
    var resetReadsLeft = 0
    /// EEC reads left before EEC.ARD, RDRXCTL reads left before RDRXCTL.DMAIDONE (§4.6.3:
    /// after a reset, software waits for both before it programs the device).
    var eepromReadsLeft = 0
    var dmaInitReadsLeft = 0
    /// A write came before ARD and DMAIDONE: recorded once per reset.
    var earlyWriteRecorded = false
    /// STATUS reads left before STATUS.GIO clears after CTRL.GIO_DIS (§5.2.5.3.2).
    var masterDisableReadsLeft = 0
    /// SECRXSTAT reads left before SECRX_RDY after SECRXCTRL.RX_DIS.
    var secrxReadsLeft = 0
    var eicr: UInt32 = 0
    var eims: UInt32 = 0
    var rx: [RXQueue]
    var tx: [TXQueue]
    /// Registers the model stores and uses, or only stores (they read back what was written).
    var plain: [Int: UInt32] = [:]
    var stats = Statistics()

    // Interrupt throttling (EITR), per vector.
    var lastRaised: [Duration?]
    var throttled: UInt64 = 0

    // Link.
    var cablePlugged: Bool
    var linkUp = false
    var linkTimer: LinkTimer?

    /// Set by a fatal fault: no more DMA until a reset.
    var broken = false

    /// Frames from the wire; queue nil: RSS picks it on delivery (`rssQueue`).
    var rxPending: [(frame: [UInt8], queue: Int?)] = []
    var transmitted: [[UInt8]] = []
    var counters = IxgbeModel.Counters()
    var faults: [IxgbeFault] = []

    init(configuration: IxgbeModel.Configuration, dma: SimulatedDMA, pci: SimulatedConfigSpace) {
        self.configuration = configuration
        self.dma = dma
        self.pci = pci
        self.cablePlugged = configuration.linkUp
        rx = Array(repeating: RXQueue(), count: L.maxQueues)
        tx = Array(repeating: TXQueue(), count: L.maxQueues)
        lastRaised = Array(repeating: nil, count: L.maxQueues)
        resetRegisters()
        startAutoNegotiation()
    }

    /// DMA happens only with Bus Master on, not after CTRL.GIO_DIS, and not after a fatal fault.
    var isLive: Bool { !broken && pci.busMasterEnabled && ctrl & L.CTRL_GIO_DIS == 0 }

    /// STATUS.GIO (§8.2.3.1.2): the device may issue PCIe master requests. It clears once
    /// CTRL.GIO_DIS is set and the requests in flight are done.
    var masterEnabled: Bool {
        pci.busMasterEnabled && !(ctrl & L.CTRL_GIO_DIS != 0 && masterDisableReadsLeft == 0)
    }

    /// EEC.ARD and RDRXCTL.DMAIDONE both set.
    var initDone: Bool { eepromReadsLeft == 0 && dmaInitReadsLeft == 0 }

    /// Everything that waits for time to pass takes effect: called when the device runs.
    mutating func settle() {
        eepromReadsLeft = 0
        dmaInitReadsLeft = 0
        masterDisableReadsLeft = 0
        secrxReadsLeft = 0
        for q in rx.indices where rx[q].enableReadsLeft > 0 {
            rx[q].enableReadsLeft = 0
            rx[q].enabled = rx[q].enableWritten
        }
        for q in tx.indices where tx[q].enableReadsLeft > 0 {
            tx[q].enableReadsLeft = 0
            tx[q].enabled = tx[q].enableWritten
        }
    }

    func register(_ offset: Int) -> UInt32 { plain[offset] ?? 0 }

    // MARK: Reset (§4.6.3.2)

    /// CTRL.RST or CTRL.LNK_RST: every register to its default, queues off, interrupts
    /// masked and clear, statistics zero, frames in the packet buffers lost. The EEPROM
    /// auto-read and the DMA init cycle finish at once (EEC.ARD, RDRXCTL.DMAIDONE), and the
    /// link renegotiates.
    mutating func reset() {
        resetRegisters()
        eepromReadsLeft = configuration.settleReads
        dmaInitReadsLeft = configuration.settleReads
        earlyWriteRecorded = false
        counters.rxDropped += UInt64(rxPending.count)
        rxPending.removeAll()
        broken = false
        counters.resets += 1
        linkUp = false
        startAutoNegotiation()
    }

    private mutating func resetRegisters() {
        ctrl = 0
        masterDisableReadsLeft = 0
        secrxReadsLeft = 0
        eicr = 0
        eims = 0
        for q in rx.indices { rx[q] = RXQueue() }
        for q in tx.indices { tx[q] = TXQueue() }
        stats = Statistics()
        for v in lastRaised.indices { lastRaised[v] = nil }
        throttled = 0
        // EEPROM-loaded defaults: our MAC in receive address 0, valid.
        let mac = configuration.mac.array
        plain = [
            L.HLREG0: L.HLREG0_DEFAULT,
            L.RDRXCTL: L.RDRXCTL_RSCFRSTSIZE_DEFAULT,
            L.AUTOC: eepromAUTOC,
            L.RXPBSIZE(0): 512 << 10,
            L.TXPBSIZE(0): 160 << 10,
            L.DTXMXSZRQ: 0x10,
            L.RAL(0): UInt32(mac[0]) | UInt32(mac[1]) << 8 | UInt32(mac[2]) << 16 | UInt32(mac[3]) << 24,
            L.RAH(0): UInt32(mac[4]) | UInt32(mac[5]) << 8 | L.RAH_AV,
        ]
        pci.interruptLine.setLevel(false)
    }

    // MARK: Link (§4.6.4)

    var eepromAUTOC: UInt32 { configuration.eepromAUTOC ?? L.eepromAUTOC(deviceID: configuration.deviceID) }

    /// Whether AUTOC suits the port's medium, so that a link can come up: an SFP+ port needs
    /// 10G serial (SFI); a backplane, CX4 or XAUI port needs the link mode and parallel
    /// PMA/PMD its EEPROM gave (its board is wired for that one); the X540's copper PHY
    /// negotiates whatever AUTOC holds.
    var autocSuitsMedium: Bool {
        let id = configuration.deviceID
        if L.x540DeviceIDs.contains(id) { return true }
        let autoc = register(L.AUTOC)
        if L.sfpDeviceIDs.contains(id) { return autoc & L.AUTOC_LMS_MASK == L.AUTOC_LMS_10G_SERIAL }
        let mode = L.AUTOC_LMS_MASK | L.AUTOC_10G_PMA_PMD_MASK
        return autoc & mode == eepromAUTOC & mode
    }

    /// Starts (or restarts) auto-negotiation: the link comes up after the configured delay
    /// if a cable is plugged in and AUTOC suits the medium.
    mutating func startAutoNegotiation() {
        linkTimer = nil
        guard cablePlugged, autocSuitsMedium else { return }
        switch configuration.linkUpDelay {
        case .immediate: bringLinkUp()
        case .steps(let n): linkTimer = .steps(max(1, n))
        case .time(let d): linkTimer = .deadline(clock.now + d)
        }
    }

    /// AUTOC.Restart_AN: the link drops (a change software sees) and renegotiates.
    mutating func restartAutoNegotiation() {
        if linkUp {
            linkUp = false
            raiseOther(L.EICR_LSC)
        }
        startAutoNegotiation()
    }

    /// Moves auto-negotiation on: by one step when called from `step()`, and by the clock
    /// whenever it is looked at.
    mutating func advanceLink(step: Bool) {
        switch linkTimer {
        case .steps(let n)? where step:
            if n <= 1 { bringLinkUp() } else { linkTimer = .steps(n - 1) }
        case .deadline(let d)? where clock.now >= d:
            bringLinkUp()
        default:
            break
        }
    }

    private mutating func bringLinkUp() {
        linkTimer = nil
        guard !linkUp else { return }
        linkUp = true
        counters.linkChanges += 1
        raiseOther(L.EICR_LSC)
    }

    /// The cable: plugged in, the link is up at once; pulled, it is down at once. Both raise
    /// EICR.LSC.
    mutating func setCable(plugged: Bool) {
        cablePlugged = plugged
        if plugged {
            if autocSuitsMedium { bringLinkUp() }
        } else {
            linkTimer = nil
            guard linkUp else { return }
            linkUp = false
            counters.linkChanges += 1
            raiseOther(L.EICR_LSC)
        }
    }

    // MARK: Faults

    static let faultLimit = 64

    /// Keeps the first `faultLimit` faults. A fatal one stops all DMA until a reset.
    mutating func record(_ fault: IxgbeFault) {
        counters.faults += 1
        if faults.count < Self.faultLimit { faults.append(fault) }
        if fault.isFatal { broken = true }
    }
}
