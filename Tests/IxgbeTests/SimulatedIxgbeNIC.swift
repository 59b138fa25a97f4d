import Ixgbe
import UIO
import UIOSimulator

typealias SimulatedIxgbeDevice = IxgbeDevice<SimulatedPCIFunction<IxgbeModel>, SimulatedDMA>

/// The real ixgbe driver on the 82599 model of `UIOSimulator`, the way a user's own test
/// would set one up: the driver sees nothing but a PCI function and DMA memory.
struct SimulatedIxgbeNIC: ~Copyable {
    static let defaultMAC = MACAddress(0x00, 0x1b, 0x21, 0x12, 0x34, 0x56)

    let model: IxgbeModel
    let clock: SimulatedClock
    var device: SimulatedIxgbeDevice

    /// A small configuration that keeps init fast: 64 descriptors, 100 µs of EITR
    /// throttling, a short link timeout.
    static func configuration(rxQueues: Int = 1, txQueues: Int = 1, ringSize: Int = 64,
                              mempoolSize: Int? = nil, throttleMicroseconds: Int = 100,
                              linkTimeout: Duration = .milliseconds(200)) -> IxgbeConfiguration {
        IxgbeConfiguration(rxQueues: rxQueues, txQueues: txQueues, ringSize: ringSize,
                           mempoolSize: mempoolSize ?? (2 * ringSize + 256),
                           interruptThrottleMicroseconds: throttleMicroseconds, linkTimeout: linkTimeout)
    }

    init(mac: MACAddress = defaultMAC, deviceID: UInt16 = 0x10FB, linkUp: Bool = true,
         linkUpDelay: IxgbeModel.LinkDelay = .immediate, clock: SimulatedClock = .manual(),
         configuration: IxgbeConfiguration = configuration()) throws {
        let dma = SimulatedDMA()
        self.clock = clock
        model = IxgbeModel(IxgbeModel.Configuration(deviceID: deviceID, mac: mac, linkUp: linkUp,
                                                    linkUpDelay: linkUpDelay, clock: clock, resetReads: 2),
                           dma: dma)
        device = try IxgbeDevice(function: model.makePCIFunction(), allocator: dma, configuration: configuration)
    }
}

/// Frames with recognisable contents: byte i of the payload of frame n is (n + i) mod 256,
/// after a header addressed to `mac` (ethertype 0x88B5, local experimental).
func ixgbeFrame(_ n: Int, size: Int = 60, to mac: MACAddress = SimulatedIxgbeNIC.defaultMAC) -> [UInt8] {
    mac.array + [0x02, 0, 0, 0, 0, 1, 0x88, 0xb5] + (0..<(size - 14)).map { UInt8(truncatingIfNeeded: n &+ $0) }
}

extension PacketView {
    var array: [UInt8] { Array(UnsafeRawBufferPointer(bytes)) }
}

extension SimulatedIxgbeNIC {
    /// Copies `frames` into buffers of RX queue 0's mempool, appended to `batch`.
    mutating func append(_ frames: some Sequence<[UInt8]>, to batch: inout PacketBatch) {
        let pool = device.mempool(queue: 0)
        for frame in frames {
            guard let buffer = pool.unsafeAllocateHeader() else { fatalError("mempool of the test NIC ran out") }
            PacketBufferHeader.data(buffer).copyMemory(from: frame, byteCount: frame.count)
            buffer.pointee.storedLength = UInt32(frame.count)
            batch.unsafeAppend(buffer)
        }
    }

    /// Everything waiting in RX queue `queue`, as byte arrays; the buffers go back to the pool.
    mutating func receiveAll(queue: Int = 0, batchSize: Int = 64) -> [[UInt8]] {
        var batch = PacketBatch(capacity: batchSize)
        var frames: [[UInt8]] = []
        while device.receive(queue: queue, into: &batch) > 0 {
            for i in 0..<batch.count { frames.append(batch[i].array) }
            batch.removeAll()
        }
        return frames
    }
}
