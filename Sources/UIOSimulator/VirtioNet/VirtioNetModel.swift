import Synchronization
import UIO

/// A virtio-net PCI device as QEMU's virtio-net-pci presents it, legacy (0x1000, I/O BAR0)
/// or modern (0x1041, vendor capabilities into BAR4), with split virtqueues: 0 RX, 1 TX,
/// and 2 control when CTRL_VQ is offered.
///
/// The driver sees only a `SimulatedPCIFunction` (`makePCIFunction()`). A test plays the
/// wire: `inject(frame:)`, `step()`, `takeTransmitted()`, `setLink(up:)`. Register accesses
/// only record what the driver asked for; DMA happens in `step()` (or in a background runner,
/// `startRunning()`), so a benchmark can count the driver's cost apart from the model's.
public final class VirtioNetModel: SimulatedDeviceModel, WirePort {
    /// Which PCI interface the model presents, as QEMU's `disable-modern` / `disable-legacy` choose.
    public enum Layout: Sendable, Equatable {
        /// virtio 0.9.5 registers in I/O BAR0, device ID 0x1000.
        case legacy
        /// virtio 1.0 capabilities into memory BAR4, device ID 0x1041.
        case modern
    }

    /// What the simulated device offers: its PCI layout, feature bits, MAC, queue sizes and link.
    public struct Configuration: Sendable {
        public var layout: Layout
        /// The features offered. Defaults: `VirtioNetFeatures.legacyDefault` / `.modernDefault`.
        public var features: VirtioNetFeatures
        public var mac: MACAddress
        /// RX and TX ring size (QEMU's rx_queue_size/tx_queue_size default, 256).
        public var queueSize: Int
        /// QEMU's control queue has 64 entries.
        public var controlQueueSize: Int
        public var linkUp: Bool
        /// The device polls TX: it sets VRING_USED_F_NO_NOTIFY on the TX ring at DRIVER_OK and
        /// sends without waiting for a kick.
        public var txPolling: Bool
        /// max_virtqueue_pairs. Above 1, MQ is offered (unless `features` says otherwise), and
        /// the extra pairs exist once the driver negotiates it, as in QEMU.
        public var maxQueuePairs: Int

        public init(layout: Layout, features: VirtioNetFeatures? = nil,
                    mac: MACAddress = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56),
                    queueSize: Int = 256, controlQueueSize: Int = 64, linkUp: Bool = true, txPolling: Bool = false,
                    maxQueuePairs: Int = 1) {
            precondition(maxQueuePairs >= 1 && maxQueuePairs <= 0x8000, "max_virtqueue_pairs is 1 to 0x8000 (virtio 1.0 §5.1.4)")
            self.layout = layout
            self.maxQueuePairs = maxQueuePairs
            let defaults: VirtioNetFeatures = layout == .legacy ? .legacyDefault : .modernDefault
            self.features = features ?? (maxQueuePairs > 1 ? defaults.union(.multiQueue) : defaults)
            self.mac = mac
            self.queueSize = queueSize
            self.controlQueueSize = controlQueueSize
            self.linkUp = linkUp
            self.txPolling = txPolling
        }
    }

    /// Totals since the model was created.
    public struct Counters: Sendable, Equatable {
        public var rxFrames: UInt64 = 0
        public var rxBytes: UInt64 = 0
        /// Frames lost for lack of a posted RX buffer (or before DRIVER_OK).
        public var rxDropped: UInt64 = 0
        /// Of those, frames that found buffers too small (without MRG_RXBUF: one chain).
        public var rxTooLarge: UInt64 = 0
        /// Frames the non-promiscuous MAC filter discarded.
        public var rxFiltered: UInt64 = 0
        public var txFrames: UInt64 = 0
        public var txBytes: UInt64 = 0
        /// Doorbell writes, all queues.
        public var notifications: UInt64 = 0
        public var queueInterrupts: UInt64 = 0
        /// Used-buffer interrupts not raised because of VRING_AVAIL_F_NO_INTERRUPT.
        public var suppressedInterrupts: UInt64 = 0
        public var configInterrupts: UInt64 = 0
        public var controlCommands: UInt64 = 0
        public var resets: UInt64 = 0
        public var faults: UInt64 = 0
    }

    public let configuration: Configuration
    public let dma: SimulatedDMA
    public let configSpace: SimulatedConfigSpace
    private let state: Mutex<VirtioNetDeviceState>
    /// Where transmitted frames go instead of `takeTransmitted()` (set by `Wire`).
    private let transmitSink = Mutex<(@Sendable ([UInt8]) -> Void)?>(nil)
    private let runner = Mutex<BackgroundStepper?>(nil)

    public init(_ configuration: Configuration, dma: SimulatedDMA) {
        precondition(configuration.queueSize > 0 && configuration.queueSize & (configuration.queueSize - 1) == 0
                     && configuration.queueSize <= VirtioNetModelLayout.Ring.maxSize, "queue size must be a power of two up to 32768")
        self.configuration = configuration
        self.dma = dma
        let pci = SimulatedConfigSpace(header: Self.pciHeader(for: configuration), interruptLine: SimulatedInterruptLine())
        self.configSpace = pci
        self.state = Mutex(VirtioNetDeviceState(configuration: configuration, dma: dma, pci: pci))
    }

    public convenience init(layout: Layout, dma: SimulatedDMA) {
        self.init(Configuration(layout: layout), dma: dma)
    }

    deinit { runner.withLock { $0?.stop() } }

    /// The function to hand to a driver. Destroying it clears Bus Master, as closing
    /// `/dev/uioN` does, which stops the model's DMA.
    public func makePCIFunction(address: PCIAddress = PCIAddress(bus: 0, device: 4, function: 0)) -> SimulatedPCIFunction<VirtioNetModel> {
        SimulatedPCIFunction(model: self, address: address)
    }

    // MARK: Registers (the driver's side)

    public func readRegister(bar: Int, offset: Int, width: Int) -> UInt32 {
        state.withLock { s in
            switch (configuration.layout, bar) {
            case (.legacy, 0): return s.readLegacy(offset: offset, width: width)
            case (.modern, VirtioNetModelLayout.Modern.bar): return s.readModern(offset: offset, width: width)
            default:
                s.record(.register("read of BAR\(bar), which this device does not have"))
                return UInt32.max
            }
        }
    }

    public func writeRegister(bar: Int, offset: Int, width: Int, value: UInt32) {
        state.withLock { s in
            switch (configuration.layout, bar) {
            case (.legacy, 0): s.writeLegacy(offset: offset, width: width, value: value)
            case (.modern, VirtioNetModelLayout.Modern.bar): s.writeModern(offset: offset, width: width, value: value)
            default: s.record(.register("write to BAR\(bar), which this device does not have"))
            }
        }
    }

    // MARK: The wire and the device's work (the test's side)

    /// A frame arrives from the wire (without virtio-net header). It is delivered, or dropped
    /// if no RX buffer is posted, at the next `step()` or `deliverRX()`.
    public func inject(frame: [UInt8]) {
        state.withLock { $0.rxPending.append(frame) }
    }

    /// Does all pending device work: control commands, then TX, then RX. Returns whether
    /// there was any.
    @discardableResult
    public func step() -> Bool {
        transmitStep() + receiveStep() > 0
    }

    /// The send half of `step()`: control commands, then TX. Returns commands and frames handled.
    @discardableResult
    public func transmitStep() -> Int { processControl() + processTX() }

    /// The receive half of `step()`: RX.
    @discardableResult
    public func receiveStep() -> Int { deliverRX() }

    /// Sends what the driver queued on the TX ring (after a kick). Returns frames sent.
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

    /// Delivers injected frames into posted RX buffers. Returns frames handled (delivered,
    /// filtered or dropped).
    @discardableResult
    public func deliverRX() -> Int { state.withLock { $0.deliverRX() } }

    /// Executes control-queue commands the driver kicked. Returns commands handled.
    @discardableResult
    public func processControl() -> Int { state.withLock { $0.processControl() } }

    /// Frames transmitted since the last call, without their virtio-net headers.
    public func takeTransmitted() -> [[UInt8]] {
        state.withLock { s in
            defer { s.transmitted.removeAll() }
            return s.transmitted
        }
    }

    /// Changes the link: VIRTIO_NET_S_LINK_UP in the config, and (after DRIVER_OK) a config
    /// interrupt with ISR 0x03, as QEMU does.
    public func setLink(up: Bool) {
        state.withLock { s in
            guard s.linkUp != up else { return }
            s.linkUp = up
            s.configChanged()
        }
    }

    public func setTransmitSink(_ sink: (@Sendable ([UInt8]) -> Void)?) {
        transmitSink.withLock { $0 = sink }
    }

    // MARK: Inspection

    public var counters: Counters { state.withLock { $0.counters } }
    /// Everything the driver did wrong, first 64 (see `VirtioFault`).
    public var faults: [VirtioFault] { state.withLock { $0.faults } }
    public var deviceStatus: UInt8 { state.withLock { $0.status } }
    public var negotiatedFeatures: VirtioNetFeatures { state.withLock { $0.negotiated } }
    /// The ISR as it stands, without the read-to-clear side effect.
    public var pendingISR: UInt8 { state.withLock { $0.isr } }
    public var isPromiscuous: Bool { state.withLock { $0.promiscuous } }
    public var isAllMulticast: Bool { state.withLock { $0.allMulticast } }
    public var isLinkUp: Bool { state.withLock { $0.linkUp } }
    /// A fatal fault stopped the device until the driver resets it.
    public var isBroken: Bool { state.withLock { $0.broken } }
    /// The virtio-net header size for the negotiated features (10 or 12).
    public var headerSize: Int { state.withLock { $0.headerSize } }
    /// Doorbells received for `queue`.
    public func notifications(queue: Int) -> Int {
        state.withLock { s in s.queues.indices.contains(queue) ? s.queues[queue].notifications : 0 }
    }
    /// Frames delivered into RX queue pair `pair`'s ring.
    public func rxFrames(pair: Int) -> UInt64 {
        state.withLock { s in s.rxFramesPerPair.indices.contains(pair) ? s.rxFramesPerPair[pair] : 0 }
    }
    /// Frames sent from TX queue pair `pair`'s ring.
    public func txFrames(pair: Int) -> UInt64 {
        state.withLock { s in s.txFramesPerPair.indices.contains(pair) ? s.txFramesPerPair[pair] : 0 }
    }
    /// Queue pairs in use: 1 until the driver sets more with VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET.
    public var activeQueuePairs: Int { state.withLock { $0.activePairs } }
    /// Virtqueues that exist now (2 + control before MQ is negotiated, 2 × max + control after).
    public var virtqueueCount: Int { state.withLock { $0.queues.count } }
    /// Frames injected and not yet delivered or dropped.
    public var pendingRXFrames: Int { state.withLock { $0.rxPending.count - $0.rxPendingHead } }

    // MARK: Background mode

    /// Calls `step()` on a thread of its own until `stopRunning()`, sleeping `idleSleep`
    /// whenever there was nothing to do. For interrupt-driven drivers and schedulers.
    public func startRunning(idleSleep: Duration = .microseconds(50)) {
        runner.withLock { r in
            guard r == nil else { return }
            // unowned(unsafe), not unowned: `deinit` joins the thread, which may still be in
            // step() while the object is being destroyed (a checked unowned load would trap).
            r = BackgroundStepper(idleSleep: idleSleep) { [unowned(unsafe) self] in self.step() }
        }
    }

    /// Stops the background thread and waits for it to finish.
    public func stopRunning() {
        let r = runner.withLock { r in defer { r = nil }; return r }
        r?.stop()
    }
}
