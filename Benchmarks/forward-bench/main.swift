import UIO
import UIOSimulator
import VirtioNet

/// Forwarding between two simulated virtio-net NICs at batch 32, for counting the driver's
/// instructions per packet with callgrind (`scripts/bench-instructions`). Only
/// `forwardBatch` is measured: the models' DMA work happens in `step()`, outside it.
typealias Device = VirtioNetDevice<SimulatedPCIFunction<VirtioNetModel>, SimulatedDMA>

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

func makeModel(_ dma: SimulatedDMA, mac: UInt8) -> VirtioNetModel {
    // txPolling: the device polls TX (VRING_USED_F_NO_NOTIFY), as QEMU does under load.
    VirtioNetModel(.init(layout: .legacy, mac: MACAddress(0x52, 0x54, 0, 0, 0, mac), txPolling: true), dma: dma)
}

let dma = SimulatedDMA()
let modelA = makeModel(dma, mac: 1), modelB = makeModel(dma, mac: 2)
var a = try Device(function: modelA.makePCIFunction(), allocator: dma)
var b = try Device(function: modelB.makePCIFunction(), allocator: dma)
let frame = [UInt8](repeating: 0, count: 6) + [0x52, 0x54, 0, 0, 0, 9, 0x88, 0xb5] + [UInt8](repeating: 0xab, count: 46)
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
