import Synchronization
import UIO

/// An Intel 82599 10 GbE port (ixgbe) as a driver following datasheet §4.6 sees it: BAR0 with
/// the registers of the reset, link, receive, transmit and interrupt steps, advanced RX and TX
/// descriptors in DMA memory, read-to-clear statistics, and a legacy INTx line.
///
/// The driver sees only a `SimulatedPCIFunction` (`makePCIFunction()`). A test plays the wire:
/// `inject(frame:)`, `step()`, `takeTransmitted()`, `setLink(up:)`. Register accesses only
/// record what the driver asked for; DMA happens in `step()` (or in a background runner,
/// `startRunning()`), so a benchmark can count the driver's cost apart from the model's.
public final class IxgbeModel: SimulatedDeviceModel, WirePort {
    /// How long auto-negotiation takes after a reset or AUTOC.Restart_AN.
    public enum LinkDelay: Sendable, Equatable {
        case immediate
        /// The link comes up in the n-th `step()`.
        case steps(Int)
        /// The link comes up once this much time has passed on the model's clock (looked at
        /// by `step()` and by reads of LINKS, so a polling driver needs no background runner).
        case time(Duration)
    }

    /// What the simulated 82599 is: its device ID, MAC, link, and how long its delayed bits take.
    public struct Configuration: Sendable {
        /// 0x10FB (82599ES SFP+) by default; the model behaves the same for any ID.
        public var deviceID: UInt16
        /// Loaded "from the EEPROM" into RAL/RAH(0) at every reset.
        public var mac: MACAddress
        /// Whether a cable is plugged in (the link partner is there) from the start.
        public var linkUp: Bool
        public var linkUpDelay: LinkDelay
        /// For EITR throttling and time-based link delays; `.manual()` in tests.
        public var clock: SimulatedClock
        /// How many CTRL reads still show RST after a reset, before it self-clears.
        public var resetReads: Int
        /// The delays of things the device does by itself, counted in reads of the register
        /// that reports them (or until the next `step()`, when time has passed): EEC.ARD and
        /// RDRXCTL.DMAIDONE after a reset, RXDCTL/TXDCTL.ENABLE after a write, SECRXSTAT.
        /// SECRX_RDY after SECRXCTRL.RX_DIS, STATUS.GIO clearing after CTRL.GIO_DIS. A driver
        /// that does not wait for them acts too early, and the model records a fault.
        public var settleReads: Int
        /// AUTOC as the port's EEPROM loads it at every reset; nil: what the device ID's
        /// board has (`IxgbeModelLayout.eepromAUTOC(deviceID:)`).
        public var eepromAUTOC: UInt32?

        public init(deviceID: UInt16 = IxgbeModelLayout.deviceID82599SFP,
                    mac: MACAddress = MACAddress(0x00, 0x1b, 0x21, 0x12, 0x34, 0x56),
                    linkUp: Bool = true, linkUpDelay: LinkDelay = .time(.milliseconds(10)),
                    clock: SimulatedClock = .system(), resetReads: Int = 2, settleReads: Int = 2,
                    eepromAUTOC: UInt32? = nil) {
            self.deviceID = deviceID
            self.mac = mac
            self.linkUp = linkUp
            self.linkUpDelay = linkUpDelay
            self.clock = clock
            self.resetReads = resetReads
            self.settleReads = settleReads
            self.eepromAUTOC = eepromAUTOC
        }
    }

    /// Totals since the model was created (the device's own statistics registers are
    /// read-to-clear; these are not).
    public struct Counters: Sendable, Equatable {
        public var rxFrames: UInt64 = 0
        /// Frame bytes, without the FCS that GORC counts.
        public var rxBytes: UInt64 = 0
        /// Frames with receive off, the security RX path stopped, or no free descriptor on a
        /// queue without SRRCTL.DROP_EN (MPC when receive is on).
        public var rxMissed: UInt64 = 0
        /// Frames a queue with SRRCTL.DROP_EN dropped for lack of descriptors (QPRDC).
        public var rxQueueDropped: UInt64 = 0
        /// Frames the L2 filter (RAL/RAH, FCTRL) discarded.
        public var rxFiltered: UInt64 = 0
        /// Longer than 1518 bytes without HLREG0.JUMBOEN (ROC).
        public var rxOversize: UInt64 = 0
        /// Arrived while the link was down, or were in the packet buffer at a reset.
        public var rxNoLink: UInt64 = 0
        public var rxDropped: UInt64 = 0
        public var txFrames: UInt64 = 0
        /// Frame bytes after padding, without FCS.
        public var txBytes: UInt64 = 0
        /// Causes set in EICR (queue causes, LSC, EICS writes).
        public var interruptCauses: UInt64 = 0
        /// Queue interrupts held back by EITR.
        public var throttledInterrupts: UInt64 = 0
        public var eicrReads: UInt64 = 0
        public var linkChanges: UInt64 = 0
        public var resets: UInt64 = 0
        public var faults: UInt64 = 0
        /// Accesses to offsets the model does not know: reads return 0, writes are ignored.
        public var unknownRegisterReads: UInt64 = 0
        public var unknownRegisterWrites: UInt64 = 0
    }

    public let configuration: Configuration
    public let dma: SimulatedDMA
    public let configSpace: SimulatedConfigSpace
    private let state: Mutex<IxgbeDeviceState>
    /// Where transmitted frames go instead of `takeTransmitted()` (set by `Wire`).
    private let transmitSink = Mutex<(@Sendable ([UInt8]) -> Void)?>(nil)
    private let runner = Mutex<BackgroundStepper?>(nil)

    public init(_ configuration: Configuration = Configuration(), dma: SimulatedDMA) {
        self.configuration = configuration
        self.dma = dma
        let pci = SimulatedConfigSpace(header: Self.pciHeader(for: configuration), interruptLine: SimulatedInterruptLine())
        self.configSpace = pci
        self.state = Mutex(IxgbeDeviceState(configuration: configuration, dma: dma, pci: pci))
    }

    deinit { runner.withLock { $0?.stop() } }

    /// The function to hand to a driver. Destroying it clears Bus Master, as closing
    /// `/dev/uioN` does, which stops the model's DMA.
    public func makePCIFunction(address: PCIAddress = PCIAddress(bus: 0, device: 5, function: 0)) -> SimulatedPCIFunction<IxgbeModel> {
        SimulatedPCIFunction(model: self, address: address)
    }

    // MARK: Registers (the driver's side)

    public func readRegister(bar: Int, offset: Int, width: Int) -> UInt32 {
        state.withLock { s in
            guard let offset = s.checkAccess(bar: bar, offset: offset, width: width, write: false) else { return 0 }
            return s.read(offset)
        }
    }

    public func writeRegister(bar: Int, offset: Int, width: Int, value: UInt32) {
        state.withLock { s in
            guard let offset = s.checkAccess(bar: bar, offset: offset, width: width, write: true) else { return }
            s.write(offset, value)
        }
    }

    // MARK: The wire and the device's work (the test's side)

    /// A frame arrives from the wire (without FCS). It is filtered and delivered, or dropped,
    /// at the next `step()` or `deliverRX()`: to the RX queue RSS picks when MRQC enables it
    /// (`rssQueue(for:)`), else to queue 0.
    public func inject(frame: [UInt8]) {
        state.withLock { $0.rxPending.append((frame, nil)) }
    }

    /// The same, forced to RX queue `queue`: the choice a flow filter would make.
    public func inject(frame: [UInt8], queue: Int) {
        state.withLock { $0.rxPending.append((frame, queue)) }
    }

    /// The RX queue the device's RSS set-up (MRQC, RSSRK, RETA as programmed) picks for
    /// `frame`, and the Toeplitz hash it computed (0 when RSS does not hash the frame).
    public func rssQueue(for frame: [UInt8]) -> (queue: Int, hash: UInt32) {
        state.withLock { $0.rssQueue(for: frame) }
    }

    /// Does all pending device work: auto-negotiation and held interrupts, then TX, then RX.
    /// Returns whether there was any.
    @discardableResult
    public func step() -> Bool {
        transmitStep() + receiveStep() > 0
    }

    /// The send half of `step()`: timers, then TX.
    @discardableResult
    public func transmitStep() -> Int {
        (advanceTimers() ? 1 : 0) + processTX()
    }

    /// The receive half of `step()`: RX.
    @discardableResult
    public func receiveStep() -> Int { deliverRX() }

    /// Moves auto-negotiation on by one step, and fires interrupts EITR held back whose
    /// interval has passed. Returns whether anything changed.
    @discardableResult
    public func advanceTimers() -> Bool {
        state.withLock { s in
            let wasUp = s.linkUp
            s.resetReadsLeft = 0  // RST has self-cleared by the time the device runs again
            s.settle()  // and whatever else was in progress has taken effect
            s.advanceLink(step: true)
            let fired = s.releaseThrottled()
            return fired || wasUp != s.linkUp
        }
    }

    /// Sends what the driver queued between TDH and TDT. Returns frames sent.
    @discardableResult
    public func processTX() -> Int {
        let (count, frames): (Int, [[UInt8]]) = state.withLock { s in
            let n = s.processTX()
            guard transmitSink.withLock({ $0 != nil }) else { return (n, []) }
            let frames = s.transmitted
            s.transmitted.removeAll()
            return (n, frames)
        }
        // Outside the lock: the sink may be another model's inject().
        if !frames.isEmpty, let sink = transmitSink.withLock({ $0 }) { frames.forEach(sink) }
        return count
    }

    /// Delivers injected frames into posted RX descriptors. Returns frames handled
    /// (delivered, filtered or dropped).
    @discardableResult
    public func deliverRX() -> Int { state.withLock { $0.deliverRX() } }

    /// Frames transmitted since the last call, without FCS (short ones padded to 60 bytes
    /// when HLREG0.TXPADEN is set).
    public func takeTransmitted() -> [[UInt8]] {
        state.withLock { s in
            defer { s.transmitted.removeAll() }
            return s.transmitted
        }
    }

    /// Plugs (`true`) or pulls (`false`) the cable: the link goes up or down at once, with
    /// EICR.LSC, as when the link partner appears or goes away.
    public func setLink(up: Bool) {
        state.withLock { $0.setCable(plugged: up) }
    }

    public func setTransmitSink(_ sink: (@Sendable ([UInt8]) -> Void)?) {
        transmitSink.withLock { $0 = sink }
    }

    // MARK: Inspection (no side effects: nothing here clears a counter)

    public var counters: Counters { state.withLock { $0.counters } }
    /// Everything the driver did wrong, first 64 (see `IxgbeFault`).
    public var faults: [IxgbeFault] { state.withLock { $0.faults } }
    public var isLinkUp: Bool { state.withLock { $0.linkUp } }
    /// EICR as it stands, without the read-to-clear.
    public var pendingCauses: UInt32 { state.withLock { $0.eicr } }
    /// EIMS: the causes that assert the interrupt.
    public var enabledCauses: UInt32 { state.withLock { $0.eims } }
    /// A fatal fault stopped DMA until the driver resets the device.
    public var isBroken: Bool { state.withLock { $0.broken } }
    /// Frames injected and not yet delivered or dropped.
    public var pendingRXFrames: Int { state.withLock { $0.rxPending.count } }
    /// RDH and RDT of RX queue `queue`, TDH and TDT of TX queue `queue`.
    public func rxRing(_ queue: Int) -> (head: UInt32, tail: UInt32) { state.withLock { ($0.rx[queue].rdh, $0.rx[queue].rdt) } }
    public func txRing(_ queue: Int) -> (head: UInt32, tail: UInt32) { state.withLock { ($0.tx[queue].tdh, $0.tx[queue].tdt) } }

    /// Direct access to the device state, for tests that need a condition the wire cannot
    /// make quickly (a 36-bit octet counter past 4 GiB).
    func withState<R>(_ body: (inout IxgbeDeviceState) -> R) -> R { state.withLock { body(&$0) } }

    // MARK: Background mode

    /// Calls `step()` on a thread of its own until `stopRunning()`, sleeping `idleSleep`
    /// whenever there was nothing to do. For interrupt-driven drivers and schedulers.
    public func startRunning(idleSleep: Duration = .microseconds(50)) {
        runner.withLock { r in
            guard r == nil else { return }
            // unowned(unsafe): `deinit` joins the thread, which may still be in step().
            r = BackgroundStepper(idleSleep: idleSleep) { [unowned(unsafe) self] in self.step() }
        }
    }

    public func stopRunning() {
        let r = runner.withLock { r in defer { r = nil }; return r }
        r?.stop()
    }
}

extension IxgbeDeviceState {
    /// BAR0 only, 32-bit aligned accesses only (§8.1: the 82599 supports 32-bit register
    /// access). Anything else is recorded and not performed.
    mutating func checkAccess(bar: Int, offset: Int, width: Int, write: Bool) -> Int? {
        let verb = write ? "write to" : "read of"
        guard bar == 0 else {
            record(.register("\(verb) BAR\(bar); the 82599 model has registers only in BAR0"))
            return nil
        }
        guard width == 4, offset % 4 == 0 else {
            record(.register("\(width)-byte \(verb) offset 0x\(String(offset, radix: 16)); 82599 registers take aligned 32-bit accesses"))
            return nil
        }
        guard offset >= 0, offset < IxgbeModelLayout.barSize else {
            if write { counters.unknownRegisterWrites += 1 } else { counters.unknownRegisterReads += 1 }
            return nil
        }
        return offset
    }
}
