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
        var rxdctl: UInt32 = 0
        var srrctl: UInt32 = L.SRRCTL_DEFAULT
        var dcaRXCtrl: UInt32 = L.DCA_RXCTRL_DEFAULT

        var base: UInt64 { UInt64(rdbah) << 32 | UInt64(rdbal) }
        var size: Int { Int(rdlen) / L.descriptorSize }
        var enabled: Bool { rxdctl & L.RXDCTL_ENABLE != 0 }
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

        var base: UInt64 { UInt64(tdbah) << 32 | UInt64(tdbal) }
        var size: Int { Int(tdlen) / L.descriptorSize }
        var enabled: Bool { txdctl & L.TXDCTL_ENABLE != 0 }
    }

    /// The read-to-clear counters of §8.2.3.23 that the model keeps.
    struct Statistics {
        var gprc: UInt64 = 0
        var gptc: UInt64 = 0
        var gorc: UInt64 = 0
        var gotc: UInt64 = 0
        /// What a read of GORCL/GOTCL reported, so the matching high read clears exactly that.
        var gorcLatched: UInt64?
        var gotcLatched: UInt64?
        var roc: UInt64 = 0
        var mpc = [UInt64](repeating: 0, count: L.PACKET_BUFFERS)
        var qprc = [UInt64](repeating: 0, count: L.QUEUE_STAT_COUNTERS)
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

    var rxPending: [(frame: [UInt8], queue: Int)] = []
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

    /// DMA happens only with Bus Master on and not after a fatal fault.
    var isLive: Bool { !broken && pci.busMasterEnabled }

    func register(_ offset: Int) -> UInt32 { plain[offset] ?? 0 }

    // MARK: Reset (§4.6.3.2)

    /// CTRL.RST or CTRL.LNK_RST: every register to its default, queues off, interrupts
    /// masked and clear, statistics zero, frames in the packet buffers lost. The EEPROM
    /// auto-read and the DMA init cycle finish at once (EEC.ARD, RDRXCTL.DMAIDONE), and the
    /// link renegotiates.
    mutating func reset() {
        resetRegisters()
        counters.rxDropped += UInt64(rxPending.count)
        rxPending.removeAll()
        broken = false
        counters.resets += 1
        linkUp = false
        startAutoNegotiation()
    }

    private mutating func resetRegisters() {
        ctrl = 0
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
            L.RDRXCTL: L.RDRXCTL_DMAIDONE,
            L.RXPBSIZE(0): 512 << 10,
            L.TXPBSIZE(0): 160 << 10,
            L.DTXMXSZRQ: 0x10,
            L.RAL(0): UInt32(mac[0]) | UInt32(mac[1]) << 8 | UInt32(mac[2]) << 16 | UInt32(mac[3]) << 24,
            L.RAH(0): UInt32(mac[4]) | UInt32(mac[5]) << 8 | L.RAH_AV,
        ]
        pci.interruptLine.setLevel(false)
    }

    // MARK: Link (§4.6.4)

    /// Starts (or restarts) auto-negotiation: the link comes up after the configured delay
    /// if a cable is plugged in.
    mutating func startAutoNegotiation() {
        linkTimer = nil
        guard cablePlugged else { return }
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
            bringLinkUp()
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
