import Foundation
import Logging
import Scheduler
import ServiceLifecycle
import Synchronization
import Testing
import UIO
import UIOService
import UIOSimulator
import VirtioNet

/// A PacketLoopService in a ServiceGroup, on a simulated NIC that runs on its own thread:
/// SIGTERM stops the loop and the device is reset before `run()` returns.
@Suite(.serialized) struct PacketLoopServiceTests {
    /// Sends every frame back (enough to see that the loop runs).
    struct Reflect: BatchHandler {
        mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
            _ = device.transmit(queue: queue, from: &batch)
        }
    }

    /// The model and its memory, which the service's closures use from the loop's thread.
    struct NIC: @unchecked Sendable {
        let dma = SimulatedDMA()
        let model: VirtioNetModel
        init() { model = VirtioNetModel(.init(layout: .modern), dma: dma) }
    }

    static func frame(_ n: UInt8) -> [UInt8] {
        [0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5] + [UInt8](repeating: n, count: 46)
    }

    /// Polls `condition` every 10 ms for up to `seconds`. It sleeps with Task.sleep: a
    /// blocking usleep would hold one of the few cooperative threads that the ServiceGroup
    /// and the other async tests need. The waits are long (60 s) because the pool is only as
    /// wide as the host has cores, and Swift Testing runs the synchronous tests of other suites
    /// on it too: on the 2-core host the group could not start until they had finished (10 s
    /// was not enough in a full `swift test`; alone this test takes 0.1 s).
    static func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    func makeService(_ nic: NIC, finished: @escaping @Sendable (SchedulerStatistics) -> Void) -> some Service {
        PacketLoopService(
            policy: SchedulerPolicy(mode: .hybrid, emptyPollsBeforeSleep: 50, sleepTimeout: .milliseconds(20)),
            openDevice: { try VirtioNetDevice(function: nic.model.makePCIFunction(), allocator: nic.dma) },
            makeHandler: { Reflect() },
            finished: finished)
    }

    @Test func sigtermStopsTheLoopAndResetsTheDevice() async throws {
        let nic = NIC()
        nic.model.startRunning()
        defer { nic.model.stopRunning() }
        let statistics = Mutex<SchedulerStatistics?>(nil)
        let service = makeService(nic) { s in statistics.withLock { $0 = s } }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm],
            logger: Logger(label: "test")))
        let running = Task { try await group.run() }

        // Running: DRIVER_OK (virtio 1.0 §2.1) is set, and a frame comes back.
        #expect(await Self.eventually(60) { nic.model.deviceStatus & 4 != 0 }, "the device never became ready")
        nic.model.inject(frame: Self.frame(1))
        var echoed: [[UInt8]] = []
        #expect(await Self.eventually(60) { echoed += nic.model.takeTransmitted(); return !echoed.isEmpty })
        #expect(echoed.first == Self.frame(1))

        kill(getpid(), SIGTERM)
        try await running.value
        #expect(nic.model.deviceStatus == 0, "the device is reset when run() returns")
        let stats = try #require(statistics.withLock { $0 })
        #expect(stats.packets == 1)
        // Frames arriving after the stop are not received: the rings are gone.
        nic.model.inject(frame: Self.frame(2))
        try await Task.sleep(for: .milliseconds(50))
        #expect(nic.model.takeTransmitted().isEmpty)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        #expect(nic.dma.bytesAllocated == 0, "the device's memory is freed")
    }

    @Test func aDeviceThatCannotBeOpenedFailsTheGroupWithItsError() async throws {
        struct NoDevice: Error {}
        let service = PacketLoopService<VirtioNetDevice<SimulatedPCIFunction<VirtioNetModel>, SimulatedDMA>, Reflect>(
            openDevice: { throw NoDevice() }, makeHandler: { Reflect() })
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
        await #expect(throws: NoDevice.self) { try await group.run() }
    }
}
