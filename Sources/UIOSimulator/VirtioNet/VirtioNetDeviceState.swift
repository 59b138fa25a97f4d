import UIO

/// Everything a virtio-net device remembers: status, features, queues, interrupt status,
/// link, and the frames on their way in and out. `VirtioNetModel` keeps it behind a lock;
/// the register decoders and the datapath are extensions in their own files.
struct VirtioNetDeviceState {
    typealias Layout = VirtioNetModelLayout
    typealias Status = VirtioNetModelLayout.Status

    let configuration: VirtioNetModel.Configuration
    let memory: GuestMemory
    let pci: SimulatedConfigSpace

    var status: UInt8 = 0
    var isr: UInt8 = 0
    /// What the driver accepted. Legacy: as written. Modern: committed when FEATURES_OK is set.
    var negotiated: VirtioNetFeatures = []
    /// Modern: driver_feature as written, before FEATURES_OK.
    var driverFeatureWindow: [UInt32] = [0, 0]
    var deviceFeatureSelect: UInt32 = 0
    var driverFeatureSelect: UInt32 = 0
    var queueSelect: UInt16 = 0
    var queues: [SimulatedVirtqueue]
    var configGeneration: UInt8 = 0
    var linkUp: Bool
    /// Set by a fatal fault (QEMU's `vdev->broken`): no more DMA until reset.
    var broken = false
    /// QEMU starts promiscuous, and keeps the default across resets (virtio_net_reset).
    var promiscuous = true
    var allMulticast = false

    var rxPending: [[UInt8]] = []
    var rxPendingHead = 0
    var transmitted: [[UInt8]] = []
    var counters = VirtioNetModel.Counters()
    /// Queue pairs the device spreads received frames over (VQ_PAIRS_SET; 1 until then).
    var activePairs = 1
    var rxFramesPerPair: [UInt64]
    var txFramesPerPair: [UInt64]
    var faults: [VirtioFault] = []

    init(configuration: VirtioNetModel.Configuration, dma: SimulatedDMA, pci: SimulatedConfigSpace) {
        self.configuration = configuration
        self.memory = GuestMemory(dma: dma)
        self.pci = pci
        self.linkUp = configuration.linkUp
        self.queues = Self.makeQueues(pairs: 1, configuration: configuration)
        self.rxFramesPerPair = Array(repeating: 0, count: configuration.maxQueuePairs)
        self.txFramesPerPair = Array(repeating: 0, count: configuration.maxQueuePairs)
    }

    /// receiveq1, transmitq1, ..., receiveqN, transmitqN, then the control queue (virtio 1.0
    /// §5.1.2). Like QEMU, the device has one pair until MQ is negotiated, so the control
    /// queue moves from 2 to 2 × max_virtqueue_pairs at that point.
    static func makeQueues(pairs: Int, configuration: VirtioNetModel.Configuration) -> [SimulatedVirtqueue] {
        var queues: [SimulatedVirtqueue] = []
        for i in 0..<(2 * pairs) { queues.append(SimulatedVirtqueue(index: i, maxSize: configuration.queueSize)) }
        if configuration.features.contains(.controlVQ) {
            queues.append(SimulatedVirtqueue(index: 2 * pairs, maxSize: configuration.controlQueueSize))
        }
        return queues
    }

    /// The layout for the features just negotiated (QEMU's virtio_net_set_multiqueue).
    mutating func featuresNegotiated() {
        let pairs = negotiated.contains(.multiQueue) ? configuration.maxQueuePairs : 1
        if queues.count / 2 != pairs { queues = Self.makeQueues(pairs: pairs, configuration: configuration) }
    }

    /// Queue pairs that exist now.
    var pairCount: Int { queues.count / 2 }
    var controlQueueIndex: Int? { configuration.features.contains(.controlVQ) ? queues.count - 1 : nil }

    var offered: VirtioNetFeatures { configuration.features }

    /// 12 bytes with VERSION_1 or MRG_RXBUF (num_buffers present), else 10 (virtio 1.0 §5.1.6).
    var headerSize: Int {
        negotiated.contains(.version1) || negotiated.contains(.mergeableRXBuffers) ? Layout.NetHeader.size : Layout.NetHeader.legacySize
    }

    /// Whether the header may share a descriptor with data (VERSION_1 implies it, §2.4.4).
    var anyLayout: Bool { negotiated.contains(.version1) || negotiated.contains(.anyLayout) }

    /// DMA happens only after DRIVER_OK, with Bus Master on, and not after a fatal fault.
    var isLive: Bool { status & Status.driverOK != 0 && !broken && pci.busMasterEnabled }

    var selectedQueue: Int? { queues.indices.contains(Int(queueSelect)) ? Int(queueSelect) : nil }

    // MARK: Status and reset (virtio 1.0 §2.1, §3.1)

    mutating func writeStatus(_ value: UInt8) {
        guard value != 0 else { reset(); return }
        let old = status
        var new = value & ~Status.deviceNeedsReset
        if old & ~value & ~Status.deviceNeedsReset != 0 {
            record(.protocolViolation("status written 0x\(String(value, radix: 16)) clears bits of 0x\(String(old, radix: 16)); only a reset (0) may clear bits"))
        }
        if configuration.layout == .modern {
            if new & Status.featuresOK != 0 && old & Status.featuresOK == 0 && !acceptFeatures() {
                new &= ~Status.featuresOK  // the driver reads status back to learn that negotiation failed
            }
            if new & Status.driverOK != 0 && new & Status.featuresOK == 0 {
                record(.protocolViolation("DRIVER_OK without FEATURES_OK: a VERSION_1 device must negotiate features first (virtio 1.0 §3.1.1)"))
            }
        }
        status = new | (old & Status.deviceNeedsReset)
        if new & Status.driverOK != 0 && old & Status.driverOK == 0 { driverOK() }
    }

    /// FEATURES_OK: accept the driver's features if it asked for nothing that was not offered.
    private mutating func acceptFeatures() -> Bool {
        let wanted = VirtioNetFeatures(rawValue: UInt64(driverFeatureWindow[0]) | UInt64(driverFeatureWindow[1]) << 32)
        let unknown = wanted.subtracting(offered)
        if !unknown.isEmpty {
            record(.protocolViolation("driver accepted features \(unknown) that were not offered (offered \(offered))"))
            return false
        }
        if !wanted.contains(.version1) {
            record(.protocolViolation("a modern (non-transitional) device needs VIRTIO_F_VERSION_1 (bit 32) accepted"))
            return false
        }
        negotiated = wanted
        featuresNegotiated()
        return true
    }

    private mutating func driverOK() {
        guard configuration.txPolling else { return }
        for pair in 0..<pairCount where queues[2 * pair + 1].enabled {
            do throws(VirtioFault) { try queues[2 * pair + 1].setNoNotify(true, memory) } catch { record(error) }
        }
    }

    /// Writing 0 to status: forget features, queues and interrupt status (virtio 1.0 §2.1.2).
    mutating func reset() {
        status = 0
        negotiated = []
        driverFeatureWindow = [0, 0]
        deviceFeatureSelect = 0
        driverFeatureSelect = 0
        queueSelect = 0
        queues = Self.makeQueues(pairs: 1, configuration: configuration)
        activePairs = 1
        broken = false
        setISR(0)
        counters.resets += 1
    }

    // MARK: Interrupts (virtio 1.0 §4.1.4.5)

    /// The INTx level follows the ISR: asserted while any bit is set, as QEMU does.
    mutating func setISR(_ value: UInt8) {
        isr = value
        pci.interruptLine.setLevel(value != 0)
    }

    mutating func raiseQueueInterrupt() {
        counters.queueInterrupts += 1
        setISR(isr | Layout.ISR.queue)
    }

    /// A configuration change: ISR 0x03 and a new generation, as QEMU's virtio_notify_config.
    mutating func configChanged() {
        configGeneration &+= 1
        guard status & Status.driverOK != 0 else { return }
        counters.configInterrupts += 1
        setISR(isr | Layout.ISR.queue | Layout.ISR.configChange)
    }

    /// Reading the ISR returns and clears it, and deasserts the line.
    mutating func readISR() -> UInt8 {
        let value = isr
        setISR(0)
        return value
    }

    // MARK: Notifications

    /// A doorbell: only recorded here. The work happens in the next `step()`.
    mutating func notify(queue: Int) {
        guard queues.indices.contains(queue) else {
            record(.register("notification for queue \(queue), which does not exist (\(queues.count) queues)"))
            return
        }
        queues[queue].kicked = true
        queues[queue].notifications += 1
        counters.notifications += 1
    }

    // MARK: Device configuration (virtio 1.0 §5.1.4)

    var netConfig: [UInt8] {
        var bytes = configuration.mac.array
        let linkStatus = linkUp ? Layout.NetConfig.statusLinkUp : 0
        bytes += [UInt8(linkStatus & 0xff), UInt8(linkStatus >> 8)]
        let pairs = configuration.maxQueuePairs
        bytes += [UInt8(pairs & 0xff), UInt8(pairs >> 8)]  // max_virtqueue_pairs
        return bytes
    }

    mutating func readNetConfig(_ offset: Int, width: Int) -> UInt32 {
        let bytes = netConfig
        guard offset >= 0, offset + width <= bytes.count else {
            record(.register("\(width)-byte read at device config offset \(offset), past its \(bytes.count) bytes"))
            return UInt32.max >> (32 - 8 * width)
        }
        var value: UInt32 = 0
        for i in 0..<width { value |= UInt32(bytes[offset + i]) << (8 * i) }
        return value
    }

    // MARK: Faults

    static let faultLimit = 64

    /// Keeps the first `faultLimit` faults. A fatal one stops the device; with VERSION_1 it
    /// also sets DEVICE_NEEDS_RESET and raises a config interrupt (QEMU's virtio_error).
    mutating func record(_ fault: VirtioFault) {
        counters.faults += 1
        if faults.count < Self.faultLimit { faults.append(fault) }
        guard fault.isFatal, !broken else { return }
        broken = true
        if negotiated.contains(.version1) {
            status |= Status.deviceNeedsReset
            configChanged()
        }
    }
}
