import Logging
import LogTesting
import Scheduler
import Testing
import UIO
@testable import UIODevices
import UIOSimulator
import VirtioNet

/// The opener's set-up record: the device's driver, MAC and link, with its PCI address.
@Suite struct OpenerLoggingTests {
    struct Nothing: MultiQueueDeviceUser {
        var used = false
        mutating func use<D: MultiQueueDevice & ~Copyable>(_ device: inout D) throws { used = true }
    }

    @Test func theReadyRecordNamesTheDriverAndTheAddress() throws {
        let capture = LogCapture()
        let address = try PCIAddress(parsing: "0000:00:05.0")
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: .modern), dma: dma)
        var user = Nothing()
        try withUnsafeMutablePointer(to: &user) { user in
            var logged = LoggedDeviceUser(user: user, logger: capture.logger.forDevice(address: address, driver: nil), backend: .vfio)
            try DeviceOpener.opened(address, logger: capture.logger.forDevice(address: address, driver: nil)) {
                try DeviceOpener.run(model.makePCIFunction(), allocator: dma, &logged)
            }
        }
        #expect(user.used)
        let records = capture.records
        #expect(records.map(\.message) == ["device set up", "device ready", "device shut down: DMA stopped, reset"])
        try #require(records.count == 3)
        // What the driver's set-up chose, at debug level, with the same device metadata.
        let setUp = records[0]
        #expect(setUp.level == .debug)
        #expect(setUp.metadata["pci-address"] == "0000:00:05.0" && setUp.metadata["driver"] == "virtio-net")
        #expect(setUp.metadata["virtio-layout"] == "modern")
        #expect(setUp.metadata["descriptors-per-frame"] == "1")      // VERSION_1: the header shares the frame's buffer
        #expect(setUp.metadata["interrupts"] == "intx")
        #expect(setUp.metadata["rx-ring"].flatMap { Int($0) }.map { $0 > 0 } == true)
        #expect(setUp.metadata["features"]?.hasPrefix("0x") == true)
        let ready = records[1]
        #expect(ready.level == .info)
        #expect(ready.metadata["pci-address"] == "0000:00:05.0")
        #expect(ready.metadata["driver"] == "virtio-net")
        #expect(ready.metadata["backend"] == "vfio")
        #expect(ready.metadata["mac"] == "52:54:00:12:34:56")
        #expect(ready.metadata["link"] == "up")
    }
}
