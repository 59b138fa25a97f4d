import Logging
import UIO

/// The metadata keys swift-uio's log records carry, so that an operator can filter by NIC.
public enum DeviceLogKey {
    /// The PCI address, DDDD:BB:DD.F.
    public static let address = "pci-address"
    /// The driver's name (`NetworkDevice.driverName`): virtio-net, ixgbe, igb.
    public static let driver = "driver"
}

extension Logger {
    /// A logger that drops everything: what library code logs to when the application gives
    /// it none, so that a library never writes to a terminal on its own (swift-log's default,
    /// before `LoggingSystem.bootstrap`, would print to stdout).
    public static let silent = Logger(label: "swift-uio", factory: { _ in SwiftLogNoOpLogHandler() })

    /// This logger with the device's PCI address and driver as metadata.
    public func forDevice(address: PCIAddress?, driver: String?) -> Logger {
        var logger = self
        if let address { logger[metadataKey: DeviceLogKey.address] = "\(address)" }
        if let driver { logger[metadataKey: DeviceLogKey.driver] = "\(driver)" }
        return logger
    }
}
