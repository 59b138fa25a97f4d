import Logging
import Scheduler
import Synchronization
import Testing
import UIO
@testable import UIODevices
import UIOSimulator
import VirtioNet

/// The opener's set-up record: the device's driver, MAC and link, with its PCI address.
@Suite struct OpenerLoggingTests {
    struct Nothing: DeviceUser {
        var used = false
        mutating func use<D: NetworkDevice & ~Copyable>(_ device: inout D) throws { used = true }
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
        #expect(records.map(\.message) == ["device ready", "device shut down: DMA stopped, reset"])
        let ready = records[0]
        #expect(ready.level == .info)
        #expect(ready.metadata["pci-address"] == "0000:00:05.0")
        #expect(ready.metadata["driver"] == "virtio-net")
        #expect(ready.metadata["backend"] == "vfio")
        #expect(ready.metadata["mac"] == "52:54:00:12:34:56")
        #expect(ready.metadata["link"] == "up")
    }
}

/// Keeps every record, with the handler's and the call's metadata merged.
final class LogCapture: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let box = Mutex<[Record]>([])
    var records: [Record] { box.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "test", factory: { _ in Handler(capture: self) })
        logger.logLevel = .trace
        return logger
    }

    func append(_ record: Record) { box.withLock { $0.append(record) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append(Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}
