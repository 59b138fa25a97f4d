import UIO
import UIOSimulator
import VirtioNet

typealias SimulatedVirtioDevice = VirtioNetDevice<SimulatedPCIFunction<VirtioNetModel>, SimulatedDMA>

/// A virtio-net driver on a simulated NIC, the way a user's own test would set one up.
struct SimulatedVirtioNIC: ~Copyable {
    let model: VirtioNetModel
    var device: SimulatedVirtioDevice

    init(_ configuration: VirtioNetModel.Configuration, mempoolSize: Int = 1024) throws {
        let dma = SimulatedDMA()
        model = VirtioNetModel(configuration, dma: dma)
        var options = SimulatedVirtioDevice.Configuration()
        options.mempoolSize = mempoolSize
        device = try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma, configuration: options)
    }

    init(model: VirtioNetModel, device: consuming SimulatedVirtioDevice) {
        self.model = model
        self.device = device
    }

    init(layout: VirtioNetModel.Layout) throws {
        try self.init(VirtioNetModel.Configuration(layout: layout))
    }
}

/// Frames with recognisable contents: byte i of frame n is (n + i) mod 256, after a header
/// addressed to `mac`.
func testFrame(_ n: Int, size: Int = 60, to mac: MACAddress = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)) -> [UInt8] {
    mac.array + [0x02, 0, 0, 0, 0, 1, 0x88, 0xb5] + (0..<(size - 14)).map { UInt8(truncatingIfNeeded: n &+ $0) }
}

extension PacketView {
    var array: [UInt8] { Array(UnsafeRawBufferPointer(bytes)) }
}
