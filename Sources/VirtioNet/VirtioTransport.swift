import UIO

/// The PCI transport of a virtio device: where its registers are and how to reach them.
///
/// Legacy devices (0.9.5, device ID 0x1000) put everything in I/O-port BAR0. Modern devices
/// (virtio 1.0, 0x1041) describe four regions with vendor capabilities. This type hides the
/// difference from the driver; both end up as register windows of the same `R`.
public struct VirtioTransport<R: RegisterAccess> {
    /// Legacy or modern, as the device ID says (`VirtioNetDeviceIDs`).
    public typealias Layout = VirtioPCILayout

    /// A register range: the region that holds it and its start within that region.
    @usableFromInline
    struct Window {
        @usableFromInline let registers: R
        @usableFromInline let offset: Int
        @inlinable func read8(_ at: Int) -> UInt8 { registers.read8(offset + at) }
        @inlinable func read16(_ at: Int) -> UInt16 { registers.read16(offset + at) }
        @inlinable func read32(_ at: Int) -> UInt32 { registers.read32(offset + at) }
        @inlinable func write8(_ at: Int, _ v: UInt8) { registers.write8(offset + at, v) }
        @inlinable func write16(_ at: Int, _ v: UInt16) { registers.write16(offset + at, v) }
        @inlinable func write32(_ at: Int, _ v: UInt32) { registers.write32(offset + at, v) }
    }

    public let layout: Layout

    @usableFromInline let common: Window
    @usableFromInline let isr: Window
    @usableFromInline let device: Window
    @usableFromInline let notify: Window
    @usableFromInline let notifyMultiplier: Int

    /// Legacy: every register in BAR0 (virtio 1.0 §4.1.4.8).
    static func legacy(bar0: R) -> VirtioTransport {
        let w = Window(registers: bar0, offset: 0)
        return VirtioTransport(layout: .legacy, common: w, isr: Window(registers: bar0, offset: Virtio.LegacyRegister.isr),
                               device: Window(registers: bar0, offset: Virtio.LegacyRegister.deviceConfig),
                               notify: Window(registers: bar0, offset: Virtio.LegacyRegister.queueNotify), notifyMultiplier: 0)
    }

    // MARK: Status and features

    var status: UInt8 {
        layout == .legacy ? common.read8(Virtio.LegacyRegister.deviceStatus) : common.read8(Virtio.CommonConfig.deviceStatus)
    }

    func setStatus(_ value: UInt8) {
        if layout == .legacy { common.write8(Virtio.LegacyRegister.deviceStatus, value) }
        else { common.write8(Virtio.CommonConfig.deviceStatus, value) }
    }

    func addStatus(_ bits: UInt8) { setStatus(status | bits) }

    /// Writes 0 to the status (virtio 1.0 §2.1.2): the device stops all DMA and forgets its
    /// queues. A modern device confirms by reading back 0; wait for that, bounded.
    func reset() throws {
        setStatus(0)
        var reads = 0
        while status != 0 && reads < 100_000 { reads += 1 }
        if status != 0 { throw UIOError.device("virtio device did not reset: status reads 0x\(String(status, radix: 16))") }
    }

    func deviceFeatures() -> UInt64 {
        switch layout {
        case .legacy: return UInt64(common.read32(Virtio.LegacyRegister.deviceFeatures))
        case .modern:
            common.write32(Virtio.CommonConfig.deviceFeatureSelect, 0)
            let low = common.read32(Virtio.CommonConfig.deviceFeature)
            common.write32(Virtio.CommonConfig.deviceFeatureSelect, 1)
            return UInt64(low) | UInt64(common.read32(Virtio.CommonConfig.deviceFeature)) << 32
        }
    }

    func setDriverFeatures(_ features: UInt64) {
        switch layout {
        case .legacy: common.write32(Virtio.LegacyRegister.driverFeatures, UInt32(truncatingIfNeeded: features))
        case .modern:
            common.write32(Virtio.CommonConfig.driverFeatureSelect, 0)
            common.write32(Virtio.CommonConfig.driverFeature, UInt32(truncatingIfNeeded: features))
            common.write32(Virtio.CommonConfig.driverFeatureSelect, 1)
            common.write32(Virtio.CommonConfig.driverFeature, UInt32(truncatingIfNeeded: features >> 32))
        }
    }

    // MARK: Queues

    /// The queue's size as the device offers it; 0 means the queue does not exist.
    func queueSize(_ index: Int) -> Int {
        switch layout {
        case .legacy:
            common.write16(Virtio.LegacyRegister.queueSelect, UInt16(index))
            return Int(common.read16(Virtio.LegacyRegister.queueSize))
        case .modern:
            common.write16(Virtio.CommonConfig.queueSelect, UInt16(index))
            return Int(common.read16(Virtio.CommonConfig.queueSize))
        }
    }

    /// Gives the device a queue's rings and returns the byte offset to write to notify it.
    func activateQueue(_ index: Int, _ queue: SplitVirtqueue, vector: UInt16 = Virtio.noVector) throws -> Int {
        switch layout {
        case .legacy:
            common.write16(Virtio.LegacyRegister.queueSelect, UInt16(index))
            common.write32(Virtio.LegacyRegister.queueAddress, UInt32(queue.descriptorsPhysical >> 12))
            return 0
        case .modern:
            let c = common
            c.write16(Virtio.CommonConfig.queueSelect, UInt16(index))
            c.write16(Virtio.CommonConfig.queueSize, UInt16(queue.size))
            c.registers.write64(c.offset + Virtio.CommonConfig.queueDescriptors, queue.descriptorsPhysical)
            c.registers.write64(c.offset + Virtio.CommonConfig.queueAvailable, queue.availablePhysical)
            c.registers.write64(c.offset + Virtio.CommonConfig.queueUsed, queue.usedPhysical)
            // NO_VECTOR: INTx (uio_pci_generic). With MSI-X (VFIO) the device reads back
            // NO_VECTOR if it could not take the vector (virtio 1.0 §4.1.5.1.2).
            c.write16(Virtio.CommonConfig.queueMSIXVector, vector)
            if vector != Virtio.noVector && c.read16(Virtio.CommonConfig.queueMSIXVector) != vector {
                throw UIOError.device("virtio: the device refused MSI-X vector \(vector) for queue \(index)")
            }
            let notifyOffset = Int(c.read16(Virtio.CommonConfig.queueNotifyOffset)) * notifyMultiplier
            c.write16(Virtio.CommonConfig.queueEnable, 1)
            return notifyOffset
        }
    }

    /// The MSI-X vector for configuration changes (modern only; virtio 1.0 §4.1.4.3 msix_config).
    func setConfigVector(_ vector: UInt16) throws {
        guard layout == .modern else { return }
        common.write16(Virtio.CommonConfig.msixConfig, vector)
        if vector != Virtio.noVector && common.read16(Virtio.CommonConfig.msixConfig) != vector {
            throw UIOError.device("virtio: the device refused MSI-X vector \(vector) for configuration changes")
        }
    }

    /// Tells the device that queue `index` has new buffers.
    @inlinable func notify(queue index: Int, notifyOffset: Int) {
        notify.write16(notifyOffset, UInt16(truncatingIfNeeded: index))
    }

    /// Reads and clears the interrupt status (which deasserts INTx).
    @inlinable func readISR() -> UInt8 { isr.read8(0) }

    func deviceConfig8(_ at: Int) -> UInt8 { device.read8(at) }
    func deviceConfig16(_ at: Int) -> UInt16 { device.read16(at) }
}

extension VirtioTransport {
    /// Modern: locate the four regions through the vendor capabilities (virtio 1.0 §4.1.4):
    /// `cap_vndr, cap_next, cap_len, cfg_type, bar, pad[3], offset (le32), length (le32)`,
    /// then `notify_off_multiplier (le32)` for the notify capability.
    static func modern<F: PCIFunction & ~Copyable>(function: inout F) throws -> VirtioTransport where F.Registers == R {
        var regions: [Int: R] = [:]
        var found: [UInt8: (window: Window, capability: Int)] = [:]
        for cap in try function.capabilities(withID: PCIConfig.capabilityVendorSpecific) {
            let type = try function.readConfig(UInt8.self, at: cap + 3)
            guard (1...4).contains(type), found[type] == nil else { continue }
            let bar = Int(try function.readConfig(UInt8.self, at: cap + 4))
            guard bar < 6 else { continue }
            let offset = Int(try function.readConfig(UInt32.self, at: cap + 8))
            if regions[bar] == nil { regions[bar] = try function.mapBAR(bar) }
            found[type] = (Window(registers: regions[bar]!, offset: offset), cap)
        }
        func need(_ type: UInt8, _ name: String) throws -> (window: Window, capability: Int) {
            guard let w = found[type] else {
                throw UIOError.device("virtio \(function.address): no \(name) capability: is this a modern (virtio 1.0) device?")
            }
            return w
        }
        let notify = try need(Virtio.CapabilityType.notify, "notify")
        let multiplier = Int(try function.readConfig(UInt32.self, at: notify.capability + 16))
        return VirtioTransport(layout: .modern, common: try need(Virtio.CapabilityType.common, "common config").window,
                               isr: try need(Virtio.CapabilityType.isr, "ISR").window,
                               device: try need(Virtio.CapabilityType.device, "device config").window,
                               notify: notify.window, notifyMultiplier: multiplier)
    }
}
