import Logging
import Scheduler
import UIO

/// Logs that the device is up (driver, MAC, link, queues: the end of its set-up), then hands
/// it to the application's user, unchanged and still specialised.
struct LoggedDeviceUser<U: MultiQueueDeviceUser & ~Copyable>: MultiQueueDeviceUser {
    let user: UnsafeMutablePointer<U>
    let logger: Logger
    let backend: Backend

    mutating func use<D: MultiQueueDevice & ~Copyable>(_ device: inout D) throws {
        logOpened(&device, logger: logger, backend: backend)
        try user.pointee.use(&device)
    }
}

func logOpened<D: NetworkDevice & ~Copyable>(_ device: inout D, logger: Logger, backend: Backend) {
    let logger = logger.forDevice(address: nil, driver: device.driverName)
    let details = device.setupDetails
    if !details.isEmpty {
        // A key given twice keeps its last value (never a trap on a driver's slip).
        logger.debug("device set up", metadata: Logger.Metadata(details.map { ($0.0, .string($0.1)) }, uniquingKeysWith: { $1 }))
    }
    logger.info("device ready", metadata: [
        "backend": "\(backend.rawValue)", "mac": "\(device.macAddress)", "link": "\(device.link)",
        "rx-queues": "\(device.rxQueueCount)", "tx-queues": "\(device.txQueueCount)"])
}
