import Ixgbe
import Logging
import Scheduler
import Testing
import UIO
import UIOSimulator
import VirtioNet

/// The simulated NICs the scheduler is tested on: each driver on its own device model.
enum NIC: String, CaseIterable, CustomTestStringConvertible {
    case virtioLegacy, virtioModern, ixgbe
    var testDescription: String { rawValue }
}

/// What a test does on the wire side of either model.
protocol SimulatedNICModel: WirePort {
    @discardableResult func step() -> Bool
    func setLink(up: Bool)
}

extension VirtioNetModel: SimulatedNICModel {}
extension IxgbeModel: SimulatedNICModel {}

extension SimulatedNICModel {
    /// A frame comes off the wire and the device DMAs it into the RX ring now, raising the
    /// queue interrupt if (and only if) the driver has armed it.
    func arrive(_ frame: [UInt8]) {
        inject(frame: frame)
        step()
    }
}

/// A 60-byte frame to `mac` (ethertype 0x88B5, local experimental).
func frame(to mac: MACAddress, _ n: Int = 0) -> [UInt8] {
    mac.array + [0x02, 0, 0, 0, 0, 1, 0x88, 0xb5] + (0..<46).map { UInt8(truncatingIfNeeded: n &+ $0) }
}

/// Counts what the loop hands it, into the probe's log.
struct RecordingHandler: BatchHandler {
    let probe: Probe
    mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
        probe.record(.handled(frames: batch.count))
    }
    mutating func linkChanged<D: NetworkDevice & ~Copyable>(device: inout D) {
        probe.record(.linkChanged(isUp: device.link.isUp))
    }
}

/// One run of `PacketLoop` on a fresh simulated NIC.
struct LoopRun {
    let probe: Probe
    let statistics: SchedulerStatistics
    /// Wall time of the whole run.
    let elapsed: Duration
    /// Device-model faults (the driver did something the datasheet/spec forbids).
    let faults: [String]
}

/// Makes the NIC, lets `script` set the probe's hooks (with the model and the device's MAC),
/// and runs the loop until `until` says so. A `limit` on wall time keeps a broken scheduler
/// from hanging the test run: the loop stops and the test's expectations fail instead.
func runPacketLoop(on nic: NIC, policy: SchedulerPolicy, tickInterval: Duration = .seconds(3600), limit: Duration = .seconds(20),
                   logger: Logger = .silent, metrics: DeviceMetrics? = nil, script: (Probe, any SimulatedNICModel, MACAddress) -> Void,
                   until: @escaping (Probe) -> Bool) throws -> LoopRun {
    let probe = Probe()
    switch nic {
    case .virtioLegacy, .virtioModern:
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: nic == .virtioLegacy ? .legacy : .modern), dma: dma)
        var device = ProbedDevice(inner: try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma), probe: probe)
        script(probe, model, device.macAddress)
        let run = try run(&device, policy: policy, tickInterval: tickInterval, limit: limit, logger: logger, metrics: metrics, until: until)
        return LoopRun(probe: probe, statistics: run.0, elapsed: run.1, faults: model.faults.map { "\($0)" })
    case .ixgbe:
        let dma = SimulatedDMA()
        // A manual clock (nothing time-based happens by itself) and no EITR throttling, so
        // every interrupt the test provokes is raised at once.
        let model = IxgbeModel(.init(linkUpDelay: .immediate, clock: .manual()), dma: dma)
        let configuration = IxgbeConfiguration(ringSize: 64, mempoolSize: 512, interruptThrottleMicroseconds: 0,
                                               linkTimeout: .milliseconds(200))
        var device = ProbedDevice(inner: try IxgbeDevice(function: model.makePCIFunction(), allocator: dma,
                                                         configuration: configuration), probe: probe)
        script(probe, model, device.macAddress)
        let run = try run(&device, policy: policy, tickInterval: tickInterval, limit: limit, logger: logger, metrics: metrics, until: until)
        return LoopRun(probe: probe, statistics: run.0, elapsed: run.1, faults: model.faults.map { "\($0)" })
    }
}

private func run<D: NetworkDevice & ~Copyable>(_ device: inout ProbedDevice<D>, policy: SchedulerPolicy, tickInterval: Duration, limit: Duration,
                                               logger: Logger, metrics: DeviceMetrics?, until: @escaping (Probe) -> Bool) throws -> (SchedulerStatistics, Duration) {
    var loop = PacketLoop(policy: policy, tickInterval: tickInterval, logger: logger, metrics: metrics)
    var handler = RecordingHandler(probe: device.probe)
    let probe = device.probe
    let clock = ContinuousClock()
    let start = clock.now
    try loop.run(device: &device, handler: &handler) { until(probe) || clock.now - start > limit }
    return (loop.statistics, clock.now - start)
}
