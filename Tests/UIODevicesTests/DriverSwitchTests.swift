import Ixgbe
import Testing
import UIO
@testable import UIODevices
import UIOSimulator
import VirtioNet

/// The opener's driver switch, on simulated PCI functions: the PCI ID picks the driver, the
/// user runs with that driver's device, and the device is shut down afterwards.
@Suite struct DriverSwitchTests {
    /// Remembers what it was handed.
    struct Recorder: DeviceUser, MultiQueueDeviceUser {
        var driver = ""
        var queues = 0
        var link = LinkStatus(isUp: false, speedMbps: 0)
        mutating func use<D: NetworkDevice & ~Copyable>(_ device: inout D) throws {
            driver = device.driverName
            queues = device.rxQueueCount
            link = device.link
        }
        mutating func use<D: MultiQueueDevice & ~Copyable>(_ device: inout D) throws {
            driver = device.driverName
            queues = device.rxQueueCount
            link = device.link
        }
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func virtioIDsOpenTheVirtioNetDriver(layout: VirtioNetModel.Layout) throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: layout), dma: dma)
        var user = Recorder()
        try DeviceOpener.run(model.makePCIFunction(), allocator: dma, &user)
        #expect(user.driver == "virtio-net")
        #expect(user.queues == 1)
        #expect(model.faults.isEmpty)
    }

    @Test func anIxgbeIDOpensTheIxgbeDriver() throws {
        let dma = SimulatedDMA()
        let model = IxgbeModel(.init(linkUpDelay: .immediate), dma: dma)
        var user = Recorder()
        try DeviceOpener.run(model.makePCIFunction(), allocator: dma, &user)
        #expect(user.driver == "ixgbe")
    }

    /// 0x1529 (82599 SFP+ FCoE) was added as one line in `IxgbeDeviceIDs.swift`: the registry
    /// names it, and the switch opens it with ixgbe, link up, on a model presenting that ID.
    @Test func anIDAddedToTheIxgbeTableOpensTheIxgbeDriver() throws {
        #expect(DriverRegistry.driver(vendor: 0x8086, device: 0x1529) == .ixgbe)
        #expect(DriverRegistry.describe(vendor: 0x8086, device: 0x1529) == "82599 SFP+ FCoE")
        let dma = SimulatedDMA()
        let model = IxgbeModel(.init(deviceID: 0x1529, linkUpDelay: .immediate), dma: dma)
        var user = Recorder()
        try DeviceOpener.run(model.makePCIFunction(), allocator: dma, &user)
        #expect(user.driver == "ixgbe")
        #expect(user.link == LinkStatus(isUp: true, speedMbps: 10_000))
        #expect(model.faults.isEmpty, "\(model.faults)")
    }

    @Test func multiQueueVirtioGetsTheQueuePairsAskedFor() throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: .modern, maxQueuePairs: 2), dma: dma)
        // The driver sends VQ_PAIRS_SET during init and waits for the answer: the device must run.
        model.startRunning()
        defer { model.stopRunning() }
        var user = Recorder()
        try DeviceOpener.run(model.makePCIFunction(), allocator: dma, queues: 2, &user)
        #expect(user.driver == "virtio-net")
        #expect(user.queues == 2)
    }

    @Test func multiQueueIxgbeGetsItsRSSQueues() throws {
        let dma = SimulatedDMA()
        let model = IxgbeModel(.init(linkUpDelay: .immediate), dma: dma)
        var user = Recorder()
        try DeviceOpener.run(model.makePCIFunction(), allocator: dma, queues: 2, &user)
        #expect(user.driver == "ixgbe")
        #expect(user.queues == 2)
    }

    @Test func moreQueuesThanRSSCanNameAreRefusedWithTheRange() throws {
        let dma = SimulatedDMA()
        let model = IxgbeModel(.init(linkUpDelay: .immediate), dma: dma)
        var user = Recorder()
        let error = #expect(throws: UIOError.self) {
            try DeviceOpener.run(model.makePCIFunction(), allocator: dma, queues: 17, &user)
        }
        #expect("\(error!)".contains("--queues 1 to 16"))
    }
}
