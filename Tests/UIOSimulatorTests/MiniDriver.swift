import UIO
@testable import UIOSimulator

/// One split virtqueue set up by hand in simulated DMA memory, in the legacy layout (which
/// also satisfies the modern alignment rules): descriptors, avail ring, used ring on the next
/// 4096-byte boundary.
struct MiniVirtqueue {
    let size: Int
    let region: DMARegion
    var availIndex: UInt16 = 0
    var lastUsed: UInt16 = 0
    var nextDescriptor = 0

    init(size: Int, dma: SimulatedDMA) throws {
        self.size = size
        region = try dma.allocate(size: Self.bytes(size), contiguous: true)
    }

    static func bytes(_ size: Int) -> Int { usedOffset(size) + 6 + 8 * size }
    static func usedOffset(_ size: Int) -> Int { (16 * size + 6 + 2 * size + 4095) & ~4095 }

    var descPhysical: UInt64 { region.physicalAddress }
    var availPhysical: UInt64 { region.physicalAddress + UInt64(16 * size) }
    var usedPhysical: UInt64 { region.physicalAddress + UInt64(Self.usedOffset(size)) }
    var avail: UnsafeMutableRawPointer { region.virtualAddress + 16 * size }
    var used: UnsafeMutableRawPointer { region.virtualAddress + Self.usedOffset(size) }

    /// Writes a chain of descriptors and makes it available. Returns its head.
    @discardableResult
    mutating func post(_ segments: [(address: UInt64, length: Int, writable: Bool)]) -> UInt16 {
        let head = UInt16(nextDescriptor)
        for (i, s) in segments.enumerated() {
            let d = region.virtualAddress + 16 * ((nextDescriptor + i) % size)
            d.storeBytes(of: s.address, as: UInt64.self)
            d.storeBytes(of: UInt32(s.length), toByteOffset: 8, as: UInt32.self)
            let last = i == segments.count - 1
            d.storeBytes(of: (last ? 0 : 1) | (s.writable ? 2 : 0) as UInt16, toByteOffset: 12, as: UInt16.self)
            d.storeBytes(of: UInt16((nextDescriptor + i + 1) % size), toByteOffset: 14, as: UInt16.self)
        }
        nextDescriptor = (nextDescriptor + segments.count) % size
        avail.storeBytes(of: head, toByteOffset: 4 + 2 * (Int(availIndex) % size), as: UInt16.self)
        availIndex &+= 1
        avail.storeBytes(of: availIndex, toByteOffset: 2, as: UInt16.self)
        return head
    }

    func setNoInterrupt(_ on: Bool) { avail.storeBytes(of: on ? 1 : 0 as UInt16, as: UInt16.self) }
    var usedFlags: UInt16 { used.load(as: UInt16.self) }

    /// Used elements published since the last call: (descriptor head, bytes written).
    mutating func takeUsed() -> [(id: UInt32, length: UInt32)] {
        var result: [(UInt32, UInt32)] = []
        let usedIndex = used.load(fromByteOffset: 2, as: UInt16.self)
        while lastUsed != usedIndex {
            let e = used + 4 + 8 * (Int(lastUsed) % size)
            result.append((e.load(as: UInt32.self), e.load(fromByteOffset: 4, as: UInt32.self)))
            lastUsed &+= 1
        }
        return result
    }
}

/// A hand-written driver for the tests: initialises the device through its registers as the
/// spec's §3.1.1 sequence says, and sets up queues with `MiniVirtqueue`.
final class MiniDriver {
    typealias L = VirtioNetModelLayout
    let dma = SimulatedDMA()
    let model: VirtioNetModel
    var function: SimulatedPCIFunction<VirtioNetModel>
    let registers: SimulatedRegisters<VirtioNetModel>
    var queues: [MiniVirtqueue] = []
    /// 64 KiB of packet buffers, 2 KiB each.
    let buffers: DMARegion

    var layout: VirtioNetModel.Layout { model.configuration.layout }

    init(_ configuration: VirtioNetModel.Configuration) throws {
        model = VirtioNetModel(configuration, dma: dma)
        function = model.makePCIFunction()
        registers = try function.mapBAR(configuration.layout == .legacy ? 0 : L.Modern.bar)
        buffers = try dma.allocate(size: 64 << 10, contiguous: false)
    }

    convenience init(layout: VirtioNetModel.Layout, features: VirtioNetFeatures? = nil, queueSize: Int = 16) throws {
        try self.init(VirtioNetModel.Configuration(layout: layout, features: features, queueSize: queueSize))
    }

    func buffer(_ i: Int) -> (virtual: UnsafeMutableRawPointer, physical: UInt64) {
        (buffers.virtualAddress + 2048 * i, buffers.physicalAddress + UInt64(2048 * i))
    }

    // MARK: Registers by layout

    var status: UInt8 {
        get { layout == .legacy ? registers.read8(L.Legacy.deviceStatus) : registers.read8(L.Common.deviceStatus) }
        set { layout == .legacy ? registers.write8(L.Legacy.deviceStatus, newValue) : registers.write8(L.Common.deviceStatus, newValue) }
    }

    func readISR() -> UInt8 { layout == .legacy ? registers.read8(L.Legacy.isrStatus) : registers.read8(L.Modern.isrOffset) }

    var deviceFeatures: VirtioNetFeatures {
        if layout == .legacy { return VirtioNetFeatures(rawValue: UInt64(registers.read32(L.Legacy.hostFeatures))) }
        registers.write32(L.Common.deviceFeatureSelect, 0)
        let low = registers.read32(L.Common.deviceFeature)
        registers.write32(L.Common.deviceFeatureSelect, 1)
        return VirtioNetFeatures(rawValue: UInt64(low) | UInt64(registers.read32(L.Common.deviceFeature)) << 32)
    }

    func writeDriverFeatures(_ f: VirtioNetFeatures) {
        if layout == .legacy { return registers.write32(L.Legacy.guestFeatures, UInt32(truncatingIfNeeded: f.rawValue)) }
        registers.write32(L.Common.driverFeatureSelect, 0)
        registers.write32(L.Common.driverFeature, UInt32(truncatingIfNeeded: f.rawValue))
        registers.write32(L.Common.driverFeatureSelect, 1)
        registers.write32(L.Common.driverFeature, UInt32(truncatingIfNeeded: f.rawValue >> 32))
    }

    func notify(_ queue: Int) {
        if layout == .legacy { registers.write16(L.Legacy.queueNotify, UInt16(queue)) }
        else { registers.write16(L.Modern.notifyOffset + queue * Int(L.Modern.notifyOffMultiplier), UInt16(queue)) }
    }

    func netConfigByte(_ offset: Int) -> UInt8 {
        registers.read8((layout == .legacy ? L.Legacy.deviceConfig : L.Modern.deviceOffset) + offset)
    }

    // MARK: Initialisation (virtio 1.0 §3.1.1)

    /// Resets, negotiates `accept ∩ offered` and sets up `queueCount` queues. Returns the
    /// status read back at the end.
    @discardableResult
    func start(accepting accept: VirtioNetFeatures? = nil, queueCount: Int = 2, enableDMA: Bool = true) throws -> UInt8 {
        if enableDMA { try function.enableDMA() }
        status = 0
        status = L.Status.acknowledge
        status = L.Status.acknowledge | L.Status.driver
        let offered = deviceFeatures
        writeDriverFeatures(accept.map { $0.intersection(offered) } ?? offered)
        var s = L.Status.acknowledge | L.Status.driver
        if layout == .modern {
            s |= L.Status.featuresOK
            status = s
            guard status & L.Status.featuresOK != 0 else { return status }
        }
        queues = []
        for q in 0..<queueCount {
            if layout == .legacy {
                registers.write16(L.Legacy.queueSelect, UInt16(q))
                let size = Int(registers.read16(L.Legacy.queueSize))
                let vq = try MiniVirtqueue(size: size, dma: dma)
                registers.write32(L.Legacy.queuePFN, UInt32(vq.descPhysical >> 12))
                queues.append(vq)
            } else {
                registers.write16(L.Common.queueSelect, UInt16(q))
                let size = Int(registers.read16(L.Common.queueSize))
                let vq = try MiniVirtqueue(size: size, dma: dma)
                registers.write64(L.Common.queueDesc, vq.descPhysical)
                registers.write64(L.Common.queueAvail, vq.availPhysical)
                registers.write64(L.Common.queueUsed, vq.usedPhysical)
                registers.write16(L.Common.queueEnable, 1)
                queues.append(vq)
            }
        }
        status = s | L.Status.driverOK
        return status
    }

    /// A frame with a recognisable payload.
    static func frame(_ length: Int, seed: UInt8 = 0, destination: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]) -> [UInt8] {
        destination + [0x52, 0x54, 0, 0, 0, 2, 0x08, 0x00] + (0..<max(0, length - 14)).map { UInt8(truncatingIfNeeded: $0 &+ Int(seed)) }
    }
}
