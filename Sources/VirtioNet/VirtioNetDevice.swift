import UIO

/// The virtio-net driver: legacy (0.9.5) and modern (1.0) PCI devices, one RX and one TX queue.
///
/// Generic over the PCI function (a real UIO device or a simulated one) and the DMA allocator,
/// so the same code runs, specialised, on hardware and in the simulator.
public struct VirtioNetDevice<Function: PCIFunction & ~Copyable, Allocator: DMAAllocator>: ~Copyable, NetworkDevice {
    public struct Configuration: Sendable {
        /// Buffers in the driver's mempool (RX ring, TX in flight and the application's batches).
        public var mempoolSize = 4096
        /// Frames handled per receive call by default.
        public var batchSize = 64
        public init() {}
    }

    @usableFromInline var function: Function
    @usableFromInline let allocator: Allocator
    @usableFromInline let transport: VirtioTransport<Function.Registers>
    @usableFromInline var rx: SplitVirtqueue
    @usableFromInline var tx: SplitVirtqueue
    @usableFromInline var control: SplitVirtqueue?
    let controlBuffer: DMARegion?
    /// The pool RX buffers come from; applications may allocate TX buffers from it too.
    public let mempool: Mempool
    @usableFromInline let rxDataCapacity: Int
    /// virtio-net header bytes before each frame: 12 with VERSION_1 or MRG_RXBUF, else 10.
    @usableFromInline let headerLength: Int
    public let features: UInt64
    /// Interrupts arrive as MSI-X messages (config: vector 0, RX: vector 1), not on INTx.
    public let usesMSIX: Bool
    public let macAddress: MACAddress
    public private(set) var link: LinkStatus
    @usableFromInline var counters = DeviceStatistics()
    private var isShutDown = false

    public var driverName: String { "virtio-net" }
    /// Free buffers in `mempool`; nil once the device is shut down (the pool is gone).
    public var bufferPoolAvailable: Int? { isShutDown ? nil : mempool.available }
    public var layout: VirtioTransport<Function.Registers>.Layout { transport.layout }
    public var rxQueueCount: Int { 1 }
    public var txQueueCount: Int { 1 }

    /// Features this driver asks for (virtio 1.0 §5.1.3). MRG_RXBUF is not used: every frame
    /// fits one 2 KiB buffer.
    static var wantedFeatures: UInt64 {
        Virtio.Feature.mac | Virtio.Feature.status | Virtio.Feature.controlQueue | Virtio.Feature.controlRX
            | Virtio.Feature.anyLayout | Virtio.Feature.version1 | Virtio.Feature.accessPlatform
    }

    /// Initialises the device following virtio 1.0 §3.1.1, starting with a reset so that a
    /// device left running by a crashed process stops its DMA before new rings are given.
    public init(function: consuming Function, allocator: Allocator, configuration: Configuration = .init()) throws {
        let vendor = function.vendorID, device = function.deviceID
        guard vendor == DriverRegistry.virtioVendor, device == 0x1000 || device == 0x1041 else {
            throw UIOError.unsupportedDevice(vendor: vendor, device: device)
        }
        let transport: VirtioTransport<Function.Registers>
        if device == 0x1000 {
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
        let features = offered & Self.wantedFeatures & (transport.layout == .legacy ? ~Virtio.Feature.version1 : ~Virtio.Feature.anyLayout)
        transport.setDriverFeatures(features)
        if transport.layout == .modern {
            transport.addStatus(Virtio.Status.featuresOK)
            guard transport.status & Virtio.Status.featuresOK != 0 else {
                transport.setStatus(Virtio.Status.failed)
                throw UIOError.device("virtio \(function.address): device refused features 0x\(String(features, radix: 16))")
            }
        }
        // Without ANY_LAYOUT a legacy device wants the header in a descriptor of its own
        // (virtio 1.0 §5.1.6.6); VERSION_1 implies any layout is fine.
        let headerInOwnDescriptor = features & (Virtio.Feature.anyLayout | Virtio.Feature.version1) == 0
        let chainLength = headerInOwnDescriptor ? 2 : 1
        let headerLength = features & (Virtio.Feature.version1 | Virtio.Feature.mergeableRXBuffers) != 0 ? 12 : 10

        let rxSize = transport.queueSize(Virtio.rxQueue), txSize = transport.queueSize(Virtio.txQueue)
        guard rxSize > 0, txSize > 0 else {
            transport.setStatus(Virtio.Status.failed)
            throw UIOError.device("virtio \(function.address): device offers no RX/TX queues")
        }
        let pool = try Mempool(count: configuration.mempoolSize, allocator: allocator)
        var rx = try SplitVirtqueue(size: rxSize, chainLength: chainLength, allocator: allocator)
        var tx = try SplitVirtqueue(size: txSize, chainLength: chainLength, allocator: allocator)
        rx.prepareDescriptors(headerLength: headerLength, rxDataLength: pool.dataCapacity)
        tx.prepareDescriptors(headerLength: headerLength, rxDataLength: nil)
        // MSI-X where the PCI function routes vectors (VFIO) and the device is modern: a legacy
        // device moves its config registers when MSI-X is on, which this transport does not do.
        let msix = transport.layout == .modern && function.interruptVectors >= 2
        if msix { try transport.setConfigVector(Virtio.configVector) }
        rx.notifyOffset = try transport.activateQueue(Virtio.rxQueue, rx, vector: msix ? Virtio.firstQueueVector : Virtio.noVector)
        tx.notifyOffset = try transport.activateQueue(Virtio.txQueue, tx)
        // TX completions are collected on each transmit call; they never need an interrupt.
        tx.suppressInterrupts(true)

        var control: SplitVirtqueue? = nil
        var controlBuffer: DMARegion? = nil
        if features & Virtio.Feature.controlQueue != 0, transport.queueSize(Virtio.controlQueue) > 0 {
            var queue = try SplitVirtqueue(size: transport.queueSize(Virtio.controlQueue), chainLength: 1, allocator: allocator)
            queue.notifyOffset = try transport.activateQueue(Virtio.controlQueue, queue)
            queue.suppressInterrupts(true)
            control = queue
            controlBuffer = try allocator.allocate(size: 64, contiguous: true)
        }

        var mac = MACAddress(0x02, 0, 0, 0, 0, 1)
        if features & Virtio.Feature.mac != 0 {
            mac = MACAddress(bytes: (0..<6).map { transport.deviceConfig8(Virtio.NetConfig.mac + $0) })
        }
        self.function = function
        self.headerLength = headerLength
        self.allocator = allocator
        self.transport = transport
        self.rx = rx
        self.tx = tx
        self.control = control
        self.controlBuffer = controlBuffer
        self.mempool = pool
        self.rxDataCapacity = pool.dataCapacity
        self.features = features
        self.usesMSIX = msix
        self.macAddress = mac
        self.link = LinkStatus(isUp: true, speedMbps: 0)
        // RX interrupts stay off until the application arms them.
        self.rx.suppressInterrupts(true)
        refillRX()
        transport.addStatus(Virtio.Status.driverOK)
        self.link = readLink()
    }

    deinit { if !isShutDown { stopAndRelease() } }

    // MARK: Packets

    @inlinable
    public mutating func receive(queue: Int, into batch: inout PacketBatch) -> Int {
        let start = batch.count
        let headerLength = self.headerLength, capacity = rxDataCapacity
        var slot = batch.unsafeSlots + start, bytes = 0
        let received = rx.takeUsed(limit: batch.capacity &- start) { buffer, written in
            // Never trust a length beyond what the buffer holds. Unsigned, so that one
            // comparison catches both a length below the header and one above the buffer.
            var length = UInt(bitPattern: written &- headerLength)
            if _slowPath(length > UInt(bitPattern: capacity)) { length = written < headerLength ? 0 : UInt(bitPattern: capacity) }
            buffer.pointee.length = UInt32(truncatingIfNeeded: length)
            bytes &+= Int(bitPattern: length)
            slot.pointee = buffer
            slot += 1
        }
        if received > 0 {
            batch.unsafeSetCount(start &+ received)
            counters.rxPackets &+= UInt64(received)
            counters.rxBytes &+= UInt64(bytes)
        }
        // Also when nothing came: a ring left empty while the mempool was exhausted must be
        // refilled once buffers are back, or no frame could ever arrive again.
        if rx.freeCount > 0 { refillRX() }
        return received
    }

    /// Posts fresh buffers into every free RX chain, then publishes and notifies once.
    @inlinable mutating func refillRX() {
        if rx.postReceiveBuffers(from: mempool) == 0 { return }
        rx.publish()
        if rx.deviceWantsNotification() { transport.notify(queue: Virtio.rxQueue, notifyOffset: rx.notifyOffset) }
    }

    @inlinable
    public mutating func transmit(queue: Int, from batch: inout PacketBatch) -> Int {
        // Collect what the device has sent since the last call.
        _ = tx.takeUsed(limit: Int.max) { buffer, _ in Mempool.unsafeFree(buffer) }
        let sent = min(batch.count, tx.freeCount)
        if sent == 0 { return 0 }
        let bytes = tx.postTransmitBuffers(from: batch.unsafeSlots, count: sent)
        batch.unsafeRemoveFirst(sent)
        tx.publish()
        if tx.deviceWantsNotification() { transport.notify(queue: Virtio.txQueue, notifyOffset: tx.notifyOffset) }
        counters.txPackets &+= UInt64(sent)
        counters.txBytes &+= UInt64(bytes)
        return sent
    }

    @inlinable
    public func hasPendingReceive(queue: Int) -> Bool { rx.hasUsed }

    // MARK: Interrupts

    public mutating func enableInterrupt(queue: Int) { rx.suppressInterrupts(false) }
    public mutating func disableInterrupt(queue: Int) { rx.suppressInterrupts(true) }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        try function.waitForInterrupt(timeout: timeout)
    }

    /// Reads ISR (which clears it and deasserts INTx), then unmasks INTx. ISR bit 1 is a
    /// configuration change: QEMU reports a link change as 0x03. With MSI-X the ISR is not
    /// used (virtio 1.0 §4.1.4.5): the RX queue is checked, and the link status re-read.
    public mutating func acknowledgeInterrupt() throws -> InterruptCauses {
        let isr = transport.readISR()
        var causes = InterruptCauses()
        if isr & Virtio.ISR.queue != 0 || usesMSIX { causes.queues = 1 }
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

    public mutating func statistics() -> DeviceStatistics { counters }

    /// Sends VIRTIO_NET_CTRL_RX_PROMISC through the control queue (virtio 1.0 §5.1.6.5.1).
    public mutating func setPromiscuous(_ enabled: Bool) throws {
        guard features & Virtio.Feature.controlRX != 0, var queue = control, let buffer = controlBuffer else {
            throw UIOError.device("virtio \(function.address): the device offers no control queue with VIRTIO_NET_F_CTRL_RX; it cannot switch promiscuous mode")
        }
        let command = buffer.virtualAddress
        command.storeBytes(of: Virtio.Control.classRX, as: UInt8.self)
        command.storeBytes(of: Virtio.Control.rxPromiscuous, toByteOffset: 1, as: UInt8.self)
        command.storeBytes(of: enabled ? 1 : 0, toByteOffset: 2, as: UInt8.self)
        command.storeBytes(of: 0xff, toByteOffset: 3, as: UInt8.self)
        let physical = buffer.physicalAddress
        queue.postRequest([(physical, 2, false), (physical + 2, 1, false), (physical + 3, 1, true)])
        transport.notify(queue: Virtio.controlQueue, notifyOffset: queue.notifyOffset)
        // The device answers quickly; bound the wait (about a second) rather than hang.
        var answered = false
        for _ in 0..<1_000 {
            if queue.popRequest() { answered = true; break }
            usleep(1000)
        }
        control = queue
        guard answered else { throw UIOError.device("virtio \(function.address): no answer to the promiscuous-mode command") }
        let ack = Volatile.load16(command + 2) >> 8
        guard ack == UInt16(Virtio.Control.ok) else { throw UIOError.device("virtio \(function.address): device refused promiscuous mode (ack \(ack))") }
    }

    // MARK: Shutdown

    /// Resets the device (it stops all DMA), then frees rings and buffers.
    public mutating func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        stopAndRelease()
    }

    private func stopAndRelease() {
        transport.setStatus(0)
        try? function.disableDMA()
        rx.destroy(allocator: allocator)
        tx.destroy(allocator: allocator)
        control?.destroy(allocator: allocator)
        if let controlBuffer { allocator.free(controlBuffer) }
        mempool.destroy(using: allocator)
    }
}

#if canImport(Glibc)
import Glibc
#endif
