import UIO

/// The virtio-net driver: legacy (0.9.5) and modern (1.0) PCI devices, with one or (with
/// VIRTIO_NET_F_MQ) several RX/TX queue pairs.
///
/// Generic over the PCI function (a real UIO device or a simulated one) and the DMA allocator,
/// so the same code runs, specialised, on hardware and in the simulator.
public struct VirtioNetDevice<Function: PCIFunction & ~Copyable, Allocator: DMAAllocator>: ~Copyable, NetworkDevice, MultiQueueDevice {
    /// Queue pairs, ring and pool sizes, and the optional features to ask for; the defaults suit QEMU and most uses.
    public struct Configuration: Sendable {
        /// Buffers in each queue pair's mempool (RX ring, TX in flight and the application's batches).
        public var mempoolSize = 4096
        /// Frames handled per receive call by default.
        public var batchSize = 64
        /// RX/TX queue pairs to use. More than 1 needs VIRTIO_NET_F_MQ; init fails, saying how
        /// many the device offers, if it has fewer.
        public var queuePairs = 1
        public init() {}
    }

    @usableFromInline var function: Function
    @usableFromInline let allocator: Allocator
    @usableFromInline let transport: VirtioTransport<Function.Registers>
    /// One packet path per queue pair; `detached[q]` while a `VirtioNetQueue` has pair q.
    @usableFromInline let pairs: UnsafeMutablePointer<VirtioQueuePairState<Function.Registers>>
    @usableFromInline let detached: UnsafeMutablePointer<Bool>
    public let queuePairCount: Int
    public let maxQueuePairs: Int
    let counterSlots: QueueCounterSlots
    @usableFromInline var control: SplitVirtqueue?
    let controlIndex: Int
    let controlBuffer: DMARegion?
    public let features: UInt64
    /// Interrupts arrive as MSI-X messages (config: vector 0, RX: vector 1), not on INTx.
    public let usesMSIX: Bool
    public let macAddress: MACAddress
    public private(set) var link: LinkStatus
    private var isShutDown = false

    public var driverName: String { "virtio-net" }
    /// The pool of queue pair 0 (RX buffers come from it; applications may allocate TX
    /// buffers from it too). Other pairs: `mempool(queue:)`.
    public var mempool: Mempool { pairs[0].mempool }
    public func mempool(queue: Int) -> Mempool { pairs[queue].mempool }
    /// Free buffers in the attached pairs' mempools; nil once the device is shut down.
    public var bufferPoolAvailable: Int? {
        if isShutDown { return nil }
        var free = 0
        for q in 0..<queuePairCount where !detached[q] { free += pairs[q].mempool.available }
        return free
    }
    public var layout: VirtioTransport<Function.Registers>.Layout { transport.layout }
    public var setupDetails: [(String, String)] {
        [("virtio-layout", layout.rawValue), ("features", "0x" + String(features, radix: 16)),
         // One descriptor per frame with ANY_LAYOUT or VERSION_1, else the header has its own.
         ("descriptors-per-frame", "\(pairs[0].rx.chainLength)"),
         ("rx-ring", "\(pairs[0].rx.size)"), ("tx-ring", "\(pairs[0].tx.size)"),
         ("mempool", "\(pairs[0].mempool.capacity)"), ("interrupts", usesMSIX ? "msi-x" : "intx"),
         ("max-queue-pairs", "\(maxQueuePairs)")]
    }
    public var rxQueueCount: Int { queuePairCount }
    public var txQueueCount: Int { queuePairCount }

    /// Features this driver asks for (virtio 1.0 §5.1.3). MRG_RXBUF is not used: every frame
    /// fits one 2 KiB buffer. MQ only when more than one pair is wanted, so that a
    /// single-queue device is set up exactly as before.
    static func wantedFeatures(queuePairs: Int) -> UInt64 {
        Virtio.Feature.mac | Virtio.Feature.status | Virtio.Feature.controlQueue | Virtio.Feature.controlRX
            | Virtio.Feature.anyLayout | Virtio.Feature.version1 | Virtio.Feature.accessPlatform
            | (queuePairs > 1 ? Virtio.Feature.multiQueue : 0)
    }

    /// Initialises the device following virtio 1.0 §3.1.1, starting with a reset so that a
    /// device left running by a crashed process stops its DMA before new rings are given.
    public init(function: consuming Function, allocator: Allocator, configuration: Configuration = .init()) throws {
        let vendor = function.vendorID, device = function.deviceID
        guard let id = VirtioNetDeviceIDs.entry(vendor: vendor, device: device) else {
            throw UIOError.unsupportedDevice(vendor: vendor, device: device)
        }
        guard configuration.queuePairs >= 1 else {
            throw UIOError.device("virtio \(function.address): \(configuration.queuePairs) queue pairs asked for; use 1 or more")
        }
        let transport: VirtioTransport<Function.Registers>
        if id.layout == .legacy {
            transport = .legacy(bar0: try function.mapBAR(0))
        } else {
            transport = try .modern(function: &function)
        }
        try transport.reset()
        try function.enableDMA()
        transport.setStatus(Virtio.Status.acknowledge)
        transport.addStatus(Virtio.Status.driver)

        let offered = transport.deviceFeatures()
        if transport.layout == .modern && offered & Virtio.Feature.version1 == 0 {
            transport.setStatus(Virtio.Status.failed)
            throw UIOError.device("virtio \(function.address): modern device does not offer VIRTIO_F_VERSION_1")
        }
        var features = offered & Self.wantedFeatures(queuePairs: configuration.queuePairs)
            & (transport.layout == .legacy ? ~Virtio.Feature.version1 : ~Virtio.Feature.anyLayout)
        // MQ is only usable through the control queue (§5.1.3.1: MQ requires CTRL_VQ).
        if features & Virtio.Feature.controlQueue == 0 { features &= ~Virtio.Feature.multiQueue }
        transport.setDriverFeatures(features)
        if transport.layout == .modern {
            transport.addStatus(Virtio.Status.featuresOK)
            guard transport.status & Virtio.Status.featuresOK != 0 else {
                transport.setStatus(Virtio.Status.failed)
                throw UIOError.device("virtio \(function.address): device refused features 0x\(String(features, radix: 16))")
            }
        }
        // The queue layout is read only now: QEMU creates the extra pairs, and moves the
        // control queue from 2 to 2 × max_virtqueue_pairs, once MQ is negotiated.
        let multiQueue = features & Virtio.Feature.multiQueue != 0
        let maxPairs = multiQueue ? max(1, Int(transport.deviceConfig16(Virtio.NetConfig.maxVirtqueuePairs))) : 1
        guard configuration.queuePairs <= maxPairs else {
            transport.setStatus(Virtio.Status.failed)
            let why = offered & Virtio.Feature.multiQueue == 0
                ? "the device does not offer VIRTIO_NET_F_MQ (QEMU: -device virtio-net-pci,mq=on with -netdev tap,...,queues=N on a multi_queue tap)"
                : "the device offers \(maxPairs) (max_virtqueue_pairs)"
            throw UIOError.device("virtio \(function.address): \(configuration.queuePairs) queue pairs asked for, but \(why); use --queues \(maxPairs) or fewer")
        }
        // Without ANY_LAYOUT a legacy device wants the header in a descriptor of its own
        // (virtio 1.0 §5.1.6.6); VERSION_1 implies any layout is fine.
        let headerInOwnDescriptor = features & (Virtio.Feature.anyLayout | Virtio.Feature.version1) == 0
        let chainLength = headerInOwnDescriptor ? 2 : 1
        let headerLength = features & (Virtio.Feature.version1 | Virtio.Feature.mergeableRXBuffers) != 0 ? 12 : 10

        let count = configuration.queuePairs
        // MSI-X where the PCI function routes vectors (VFIO) and the device is modern: a legacy
        // device moves its config registers when MSI-X is on, which this transport does not do.
        // Vector 0 is for configuration changes, vector 1 + q for the RX queue of pair q.
        let msix = transport.layout == .modern && function.interruptVectors >= 1 + count
        if msix {
            do { try transport.setConfigVector(Virtio.configVector) } catch {
                transport.setStatus(Virtio.Status.failed)
                throw error
            }
        }
        let slots = QueueCounterSlots(count: count)
        let pairs = UnsafeMutablePointer<VirtioQueuePairState<Function.Registers>>.allocate(capacity: count)
        var built = 0
        func release() {
            for q in 0..<built { pairs[q].destroy(allocator: allocator) }
            pairs.deinitialize(count: built)
            pairs.deallocate()
            slots.deallocate()
        }
        do {
            for q in 0..<count {
                let rxIndex = Virtio.rxQueue(pair: q), txIndex = Virtio.txQueue(pair: q)
                let rxSize = transport.queueSize(rxIndex), txSize = transport.queueSize(txIndex)
                guard rxSize > 0, txSize > 0 else {
                    throw UIOError.device("virtio \(function.address): device offers no RX/TX queues for pair \(q) (virtqueues \(rxIndex), \(txIndex))")
                }
                let pool = try Mempool(count: configuration.mempoolSize, allocator: allocator)
                var rx: SplitVirtqueue
                var tx: SplitVirtqueue
                do {
                    rx = try SplitVirtqueue(size: rxSize, chainLength: chainLength, allocator: allocator)
                    do { tx = try SplitVirtqueue(size: txSize, chainLength: chainLength, allocator: allocator) } catch {
                        rx.destroy(allocator: allocator)
                        throw error
                    }
                } catch {
                    pool.destroy(using: allocator)
                    throw error
                }
                rx.prepareDescriptors(headerLength: headerLength, rxDataLength: pool.dataCapacity)
                tx.prepareDescriptors(headerLength: headerLength, rxDataLength: nil)
                let vector = msix ? Virtio.firstQueueVector + UInt16(q) : Virtio.noVector
                do {
                    rx.notifyOffset = try transport.activateQueue(rxIndex, rx, vector: vector)
                    tx.notifyOffset = try transport.activateQueue(txIndex, tx)
                } catch {
                    rx.destroy(allocator: allocator)
                    tx.destroy(allocator: allocator)
                    pool.destroy(using: allocator)
                    throw error
                }
                // TX completions are collected on each transmit call; they never need an interrupt.
                tx.suppressInterrupts(true)
                // RX interrupts stay off until the application arms them.
                rx.suppressInterrupts(true)
                (pairs + q).initialize(to: VirtioQueuePairState(
                    rx: rx, tx: tx, transport: transport, rxIndex: rxIndex, txIndex: txIndex, mempool: pool,
                    rxDataCapacity: pool.dataCapacity, headerLength: headerLength, counters: slots.slot(q)))
                built += 1
            }
        } catch {
            transport.setStatus(Virtio.Status.failed)
            release()
            throw error
        }

        let controlIndex = multiQueue ? 2 * maxPairs : Virtio.controlQueue
        var control: SplitVirtqueue? = nil
        var controlBuffer: DMARegion? = nil
        if features & Virtio.Feature.controlQueue != 0, transport.queueSize(controlIndex) > 0 {
            var queue = try SplitVirtqueue(size: transport.queueSize(controlIndex), chainLength: 1, allocator: allocator)
            queue.notifyOffset = try transport.activateQueue(controlIndex, queue)
            queue.suppressInterrupts(true)
            control = queue
            controlBuffer = try allocator.allocate(size: 64, contiguous: true)
        }

        var mac = MACAddress(0x02, 0, 0, 0, 0, 1)
        if features & Virtio.Feature.mac != 0 {
            mac = MACAddress(bytes: (0..<6).map { transport.deviceConfig8(Virtio.NetConfig.mac + $0) })
        }
        for q in 0..<count { pairs[q].refillRX() }
        transport.addStatus(Virtio.Status.driverOK)
        // With MQ negotiated the device uses pair 1 only until told otherwise (§5.1.6.5.5).
        if multiQueue, var queue = control, let buffer = controlBuffer {
            let pairCount = UInt16(count)
            do {
                try Self.sendControl(Virtio.Control.classMQ, Virtio.Control.mqPairsSet,
                                     [UInt8(truncatingIfNeeded: pairCount), UInt8(truncatingIfNeeded: pairCount >> 8)],
                                     what: "VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET \(count)", queue: &queue, buffer: buffer,
                                     transport: transport, index: controlIndex, address: function.address)
            } catch {
                transport.setStatus(0)
                release()
                queue.destroy(allocator: allocator)
                allocator.free(buffer)
                throw error
            }
            control = queue
        }
        let detached = UnsafeMutablePointer<Bool>.allocate(capacity: count)
        detached.initialize(repeating: false, count: count)
        self.function = function
        self.allocator = allocator
        self.transport = transport
        self.pairs = pairs
        self.detached = detached
        self.queuePairCount = count
        self.maxQueuePairs = maxPairs
        self.counterSlots = slots
        self.control = control
        self.controlIndex = controlIndex
        self.controlBuffer = controlBuffer
        self.features = features
        self.usesMSIX = msix
        self.macAddress = mac
        self.link = LinkStatus(isUp: true, speedMbps: 0)
        self.link = readLink()
    }

    deinit {
        if !isShutDown { stopAndRelease() }
        releaseBookkeeping()
    }

    // MARK: Packets

    /// Traps if `queue` is not a pair of this device or is detached: both would be a bug in
    /// the caller (one load and branch per call).
    @inlinable func checkAttached(_ queue: Int) {
        precondition(UInt(bitPattern: queue) < UInt(bitPattern: queuePairCount) && !detached[queue],
                     "virtio-net: queue \(queue) is not an attached queue pair of this device")
    }

    @inlinable
    public mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        checkAttached(queue)
        return pairs[queue].receive(into: &batch)
    }

    @inlinable
    public mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        checkAttached(queue)
        return pairs[queue].transmit(from: &batch)
    }

    @inlinable
    public func hasPendingReceive(queue: Int) -> Bool {
        checkAttached(queue)
        return pairs[queue].rx.hasUsed
    }

    // MARK: Queue pairs for threads of their own

    public mutating func withDetachedQueues<U: QueueSetUser & ~Copyable>(_ user: inout U) throws {
        var set = QueueSet<VirtioNetQueue<Function.Registers>>(count: queuePairCount)
        for q in 0..<queuePairCount {
            checkAttached(q)
            detached[q] = true
            set.put(VirtioNetQueue(state: pairs[q], index: q))
        }
        defer {
            for q in 0..<queuePairCount where set.contains(q) {
                pairs[q] = set.take(q).state
                detached[q] = false
            }
        }
        try user.use(device: &self, queues: &set)
    }

    public func queueStatistics(_ index: Int) -> DeviceStatistics { counterSlots.read(index) }

    // MARK: Interrupts

    public mutating func enableInterrupt(queue: Int) { checkAttached(queue); pairs[queue].rx.suppressInterrupts(false) }
    public mutating func disableInterrupt(queue: Int) { checkAttached(queue); pairs[queue].rx.suppressInterrupts(true) }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        try function.waitForInterrupt(timeout: timeout)
    }

    public var interruptDescriptors: [Int32] { function.interruptDescriptors }

    /// Reads ISR (which clears it and deasserts INTx), then unmasks INTx. ISR bit 1 is a
    /// configuration change: QEMU reports a link change as 0x03. ISR bit 0 does not say which
    /// queue: every pair may have work (the fan-out asks each sleeping queue's used ring).
    /// With MSI-X the ISR is not used (virtio 1.0 §4.1.4.5): every queue is checked, and the
    /// link status re-read.
    public mutating func acknowledgeInterrupt() throws -> InterruptCauses {
        let isr = transport.readISR()
        var causes = InterruptCauses()
        if isr & Virtio.ISR.queue != 0 || usesMSIX { causes.queues = queuePairCount >= 64 ? ~0 : (1 << UInt64(queuePairCount)) - 1 }
        if isr & Virtio.ISR.configChange != 0 || usesMSIX {
            let before = link
            link = readLink()
            causes.linkChanged = link != before
        }
        try function.rearmInterrupt()
        return causes
    }

    // MARK: Link, statistics, promiscuous mode

    func readLink() -> LinkStatus {
        guard features & Virtio.Feature.status != 0 else { return LinkStatus(isUp: true, speedMbps: 0) }
        return LinkStatus(isUp: transport.deviceConfig16(Virtio.NetConfig.status) & Virtio.NetConfig.linkUp != 0, speedMbps: 0)
    }

    public mutating func statistics() -> DeviceStatistics { counterSlots.total() }

    /// Sends VIRTIO_NET_CTRL_RX_PROMISC through the control queue (virtio 1.0 §5.1.6.5.1).
    public mutating func setPromiscuous(_ enabled: Bool) throws {
        guard features & Virtio.Feature.controlRX != 0, control != nil else {
            throw UIOError.device("virtio \(function.address): the device offers no control queue with VIRTIO_NET_F_CTRL_RX; it cannot switch promiscuous mode")
        }
        try sendControl(Virtio.Control.classRX, Virtio.Control.rxPromiscuous, [enabled ? 1 : 0], what: "promiscuous mode")
    }

    /// One control command, synchronously: `class, command` (2 bytes), `data`, and the
    /// device-writable ack byte, each in a descriptor of its own (virtio 1.0 §5.1.6.5).
    mutating func sendControl(_ commandClass: UInt8, _ command: UInt8, _ data: [UInt8], what: String) throws {
        guard var queue = control, let buffer = controlBuffer else {
            throw UIOError.device("virtio \(function.address): the device has no control queue for \(what)")
        }
        defer { control = queue }
        try Self.sendControl(commandClass, command, data, what: what, queue: &queue, buffer: buffer,
                             transport: transport, index: controlIndex, address: function.address)
    }

    static func sendControl(_ commandClass: UInt8, _ command: UInt8, _ data: [UInt8], what: String,
                            queue: inout SplitVirtqueue, buffer: DMARegion, transport: VirtioTransport<Function.Registers>,
                            index: Int, address: PCIAddress) throws {
        precondition(data.count <= 32, "control command data fits the 64-byte buffer")
        let bytes = buffer.virtualAddress
        bytes.storeBytes(of: commandClass, as: UInt8.self)
        bytes.storeBytes(of: command, toByteOffset: 1, as: UInt8.self)
        for (i, b) in data.enumerated() { bytes.storeBytes(of: b, toByteOffset: 2 + i, as: UInt8.self) }
        let ackOffset = 2 + data.count
        bytes.storeBytes(of: 0xff, toByteOffset: ackOffset, as: UInt8.self)
        let physical = buffer.physicalAddress
        queue.postRequest([(physical, 2, false), (physical + 2, data.count, false), (physical + UInt64(ackOffset), 1, true)])
        transport.notify(queue: index, notifyOffset: queue.notifyOffset)
        // The device answers quickly; bound the wait (about a second) rather than hang.
        var answered = false
        for _ in 0..<1_000 {
            if queue.popRequest() { answered = true; break }
            usleep(1000)
        }
        guard answered else { throw UIOError.device("virtio \(address): no answer to the \(what) command on the control queue") }
        let ack = Volatile.load16(bytes + ackOffset) & 0xff
        guard ack == UInt16(Virtio.Control.ok) else { throw UIOError.device("virtio \(address): device refused \(what) (ack \(ack))") }
    }

    // MARK: Shutdown

    /// Resets the device (it stops all DMA), then frees rings and buffers.
    public mutating func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        stopAndRelease()
    }

    /// A pair still detached may be in use on another thread: its rings and pool are left
    /// allocated (a leak, never a use after free); the reset has stopped its DMA.
    private func stopAndRelease() {
        transport.setStatus(0)
        try? function.disableDMA()
        for q in 0..<queuePairCount where !detached[q] { pairs[q].destroy(allocator: allocator) }
        control?.destroy(allocator: allocator)
        if let controlBuffer { allocator.free(controlBuffer) }
    }

    /// The bookkeeping outlives `shutdown()` (statistics stay readable) and goes with the
    /// device, unless a pair is still detached: its handle points into the counter slots.
    private func releaseBookkeeping() {
        guard (0..<queuePairCount).allSatisfy({ !detached[$0] }) else { return }
        pairs.deinitialize(count: queuePairCount)
        pairs.deallocate()
        detached.deallocate()
        counterSlots.deallocate()
    }
}

#if canImport(Glibc)
import Glibc
#endif
