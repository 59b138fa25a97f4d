import ExampleSupport
import Glibc
import Ixgbe
import Prometheus
import Scheduler
import UIO
import UIOSimulator
import VirtioNet

/// Forwarding between two simulated NICs at batch 32, for counting the driver's instructions
/// per packet with callgrind (`Benchmarks/vm_bench.py`). Only `forwardBatch` is measured: the
/// models' DMA work happens in `step()`, outside it.
/// Usage: forward-bench [BATCH [ROUNDS [virtio|ixgbe|txonly|virtio-loop|virtio-loop-metrics]]]
///
/// `virtio-loop` runs the same forwarding as a `BatchHandler` under `PacketLoop` (poll mode);
/// `virtio-loop-metrics` adds `DeviceMetrics` to the loop, recorded into a Prometheus registry
/// at every tick (1 s, the examples' default). Measured: `loopForward` less `stepModels` (the
/// models' DMA work, which the loop's `until` runs between polls).
///
/// `txonly` counts pktgen's send path instead: `sendBatch` is pktgen's inner loop (buffers
/// prefilled with the frame once; per packet, a buffer from the pool, its length and sequence
/// number, then one transmit call), on one simulated virtio NIC whose model takes every frame.
typealias VirtioDevice = VirtioNetDevice<SimulatedPCIFunction<VirtioNetModel>, SimulatedDMA>
typealias IxgbeNIC = IxgbeDevice<SimulatedPCIFunction<IxgbeModel>, SimulatedDMA>

let arguments = CommandLine.arguments
let batchSize = arguments.count > 1 ? Int(arguments[1]) ?? 32 : 32
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000
let driver = arguments.count > 3 ? arguments[3] : "virtio"

/// rx a batch on `from`, touch each frame (as ixy-fwd does), tx it on `to`, free what is left.
/// One function per driver, both named `forwardBatch`: callgrind's `--toggle-collect` matches
/// the mangled name `*forward_bench0A5Batch*`, whichever driver runs.
@inline(never)
func forwardBatch(from: inout VirtioDevice, to: inout VirtioDevice, batch: inout PacketBatch) -> Int {
    let n = from.receive(queue: 0, into: &batch)
    touch(&batch, n)
    let sent = to.transmit(queue: 0, from: &batch)
    batch.removeAll()
    return sent
}

@inline(never)
func forwardBatch(from: inout IxgbeNIC, to: inout IxgbeNIC, batch: inout PacketBatch) -> Int {
    let n = from.receive(queue: 0, into: &batch)
    touch(&batch, n)
    let sent = to.transmit(queue: 0, from: &batch)
    batch.removeAll()
    return sent
}

/// pktgen's per-batch work (Examples/pktgen/main.swift, `Generator.use`), without its clock.
@inline(never)
func forwardBatch(sending device: inout VirtioDevice, pool: Mempool, batch: inout PacketBatch, sequence: inout UInt32) -> Int {
    _ = batch.fill(from: pool, upTo: batch.capacity) { packet in
        packet.data.storeBytes(of: sequence.bigEndian, toByteOffset: 42, as: UInt32.self)
        sequence &+= 1
    }
    return device.transmit(queue: 0, from: &batch)
}

@inline(__always)
func touch(_ batch: inout PacketBatch, _ n: Int) {
    for i in 0..<n {
        let data = batch[i].data
        data.storeBytes(of: data.load(fromByteOffset: 1, as: UInt8.self) &+ 1, toByteOffset: 1, as: UInt8.self)
    }
}

func frame(to mac: MACAddress) -> [UInt8] {
    mac.array + [0x52, 0x54, 0, 0, 0, 9, 0x88, 0xb5] + [UInt8](repeating: 0xab, count: 46)
}

/// Forwards each batch the loop receives from A out of B, touching each frame.
struct LoopForward: BatchHandler {
    let to: UnsafeMutablePointer<VirtioDevice>
    var forwarded = 0
    mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
        touch(&batch, batch.count)
        forwarded += to.pointee.transmit(queue: 0, from: &batch)
    }
}

@inline(never)
func loopForward(_ loop: inout PacketLoop, from a: inout VirtioDevice, handler: inout LoopForward, step: () -> Bool) throws {
    try loop.run(device: &a, handler: &handler, until: step)
}

/// B's side of the wire drained, then A's next batch arrives; true once `rounds` are done.
@inline(never)
func stepModels(_ a: VirtioNetModel, _ b: VirtioNetModel, _ frame: [UInt8], _ round: inout Int) -> Bool {
    _ = b.step()
    _ = b.takeTransmitted()
    if round == rounds { return true }
    for _ in 0..<batchSize { a.inject(frame: frame) }
    _ = a.step()
    round += 1
    return false
}

let dma = SimulatedDMA()
var batch = PacketBatch(capacity: batchSize)
var forwarded = 0
switch driver {
case "virtio":
    // txPolling: the device polls TX (VRING_USED_F_NO_NOTIFY), as QEMU does under load.
    func makeModel(_ mac: UInt8) -> VirtioNetModel {
        VirtioNetModel(.init(layout: .legacy, mac: MACAddress(0x52, 0x54, 0, 0, 0, mac), txPolling: true), dma: dma)
    }
    let modelA = makeModel(1), modelB = makeModel(2)
    var a = try VirtioDevice(function: modelA.makePCIFunction(), allocator: dma)
    var b = try VirtioDevice(function: modelB.makePCIFunction(), allocator: dma)
    let f = frame(to: MACAddress(0x52, 0x54, 0, 0, 0, 1))
    for _ in 0..<rounds {
        for _ in 0..<batchSize { modelA.inject(frame: f) }
        _ = modelA.step()
        forwarded += forwardBatch(from: &a, to: &b, batch: &batch)
        _ = modelB.step()
        _ = modelB.takeTransmitted()
    }
case "ixgbe":
    // The 82599 model with its link up at once and a manual clock (no EITR timers firing).
    func makeModel(_ mac: UInt8) -> IxgbeModel {
        IxgbeModel(.init(mac: MACAddress(0x00, 0x1b, 0x21, 0, 0, mac), linkUpDelay: .immediate, clock: .manual()), dma: dma)
    }
    let modelA = makeModel(1), modelB = makeModel(2)
    let configuration = IxgbeConfiguration(ringSize: 512, mempoolSize: 4096, linkTimeout: .milliseconds(200))
    var a = try IxgbeNIC(function: modelA.makePCIFunction(), allocator: dma, configuration: configuration)
    var b = try IxgbeNIC(function: modelB.makePCIFunction(), allocator: dma, configuration: configuration)
    let f = frame(to: MACAddress(0x00, 0x1b, 0x21, 0, 0, 1))
    for _ in 0..<rounds {
        for _ in 0..<batchSize { modelA.inject(frame: f) }
        _ = modelA.step()
        forwarded += forwardBatch(from: &a, to: &b, batch: &batch)
        _ = modelB.step()
        _ = modelB.takeTransmitted()
    }
case "virtio-loop", "virtio-loop-metrics":
    func makeModel(_ mac: UInt8) -> VirtioNetModel {
        VirtioNetModel(.init(layout: .legacy, mac: MACAddress(0x52, 0x54, 0, 0, 0, mac), txPolling: true), dma: dma)
    }
    let modelA = makeModel(1), modelB = makeModel(2)
    var a = try VirtioDevice(function: modelA.makePCIFunction(), allocator: dma)
    var b = try VirtioDevice(function: modelB.makePCIFunction(), allocator: dma)
    let f = frame(to: MACAddress(0x52, 0x54, 0, 0, 0, 1))
    let registry = PrometheusCollectorRegistry()
    let metrics = driver == "virtio-loop-metrics"
        ? DeviceMetrics(address: "0000:00:04.0", driver: a.driverName, factory: DescribedPrometheusFactory(registry: registry)) : nil
    var loop = PacketLoop(policy: SchedulerPolicy(mode: .poll, batchSize: batchSize), tickInterval: .seconds(1), metrics: metrics)
    var round = 0
    try withUnsafeMutablePointer(to: &b) { b in
        var handler = LoopForward(to: b)
        try loopForward(&loop, from: &a, handler: &handler) { stepModels(modelA, modelB, f, &round) }
        forwarded = handler.forwarded
    }
    if metrics != nil {
        var text: [UInt8] = []
        registry.emit(into: &text)
        print("forward-bench: \(String(decoding: text, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("uio_rx_packets_total") }.joined())")
    }
case "txonly":
    let model = VirtioNetModel(.init(layout: .legacy, mac: MACAddress(0x52, 0x54, 0, 0, 0, 1), txPolling: true), dma: dma)
    var nic = try VirtioDevice(function: model.makePCIFunction(), allocator: dma)
    let pool = try Mempool(count: 2048, allocator: dma)
    let f = frame(to: MACAddress(0x02, 0, 0, 0, 0, 0x99)) + [UInt8](repeating: 0, count: 60 - 14 - 46)
    var fill = PacketBatch(capacity: pool.capacity)
    while let buffer = pool.allocate() { fill.append(buffer) }
    for i in 0..<fill.count { f.withUnsafeBytes { fill[i].data.copyMemory(from: $0.baseAddress!, byteCount: 60) }; fill[i].length = 60 }
    fill.removeAll()
    var sequence: UInt32 = 0
    for _ in 0..<rounds {
        forwarded += forwardBatch(sending: &nic, pool: pool, batch: &batch, sequence: &sequence)
        _ = model.step()
        _ = model.takeTransmitted()
    }
default:
    print("forward-bench: unknown driver '\(driver)'; use virtio, ixgbe, txonly, virtio-loop or virtio-loop-metrics")
    exit(64)
}
print("forwarded \(forwarded) packets in \(rounds) batches of \(batchSize) (\(driver))")
