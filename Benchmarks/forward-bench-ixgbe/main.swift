import Ixgbe
import UIO
import UIOSimulator

/// forward-bench's loop on two simulated 82599s instead of virtio NICs, for counting the
/// ixgbe driver's instructions per packet with callgrind: the Intel descriptor core's RX
/// refill, TX clean and tail writes. Only `forwardBatch` is measured; the models' DMA work
/// happens in `step()`, outside it.
typealias Device = IxgbeDevice<SimulatedPCIFunction<IxgbeModel>, SimulatedDMA>

let batchSize = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 32 : 32
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 2000 : 2000

/// rx a batch on `from`, touch each frame (as ixy-fwd does), tx it on `to`, free what is left.
@inline(never)
func forwardBatch(from: inout Device, to: inout Device, batch: inout PacketBatch) -> Int {
    let n = from.receive(queue: 0, into: &batch)
    for i in 0..<n {
        let data = batch[i].data
        data.storeBytes(of: data.load(fromByteOffset: 1, as: UInt8.self) &+ 1, toByteOffset: 1, as: UInt8.self)
    }
    let sent = to.transmit(queue: 0, from: &batch)
    batch.removeAll()
    return sent
}

func makeModel(_ dma: SimulatedDMA, mac: UInt8) -> IxgbeModel {
    IxgbeModel(.init(mac: MACAddress(0x52, 0x54, 0, 0, 0, mac), linkUpDelay: .immediate, clock: .manual()), dma: dma)
}

let dma = SimulatedDMA()
let modelA = makeModel(dma, mac: 1), modelB = makeModel(dma, mac: 2)
let configuration = IxgbeConfiguration(ringSize: 512, mempoolSize: 4096, linkTimeout: .zero)
var a = try Device(function: modelA.makePCIFunction(), allocator: dma, configuration: configuration)
var b = try Device(function: modelB.makePCIFunction(), allocator: dma, configuration: configuration)
let frame = [0x52, 0x54, 0, 0, 0, 1, 0x52, 0x54, 0, 0, 0, 9, 0x88, 0xb5] + [UInt8](repeating: 0xab, count: 46)
var batch = PacketBatch(capacity: batchSize)
var forwarded = 0
for _ in 0..<rounds {
    for _ in 0..<batchSize { modelA.inject(frame: frame) }
    _ = modelA.step()
    forwarded += forwardBatch(from: &a, to: &b, batch: &batch)
    _ = modelB.step()
    _ = modelB.takeTransmitted()
}
print("forwarded \(forwarded) packets in \(rounds) batches of \(batchSize)")
