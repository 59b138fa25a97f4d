import ArgumentParser
import Logging
import Scheduler
import UIO

// `--log-level trace|debug|info|notice|warning|error|critical` on every example.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The examples' swift-log set-up: one stderr handler for the whole process (stdout stays the
/// examples' own report lines, which scripts and the VM tests read).
public enum ExampleLogging {
    /// Bootstraps swift-log (once per process) and returns the example's logger.
    public static func bootstrap(_ label: String, level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension ExampleLogging {
    /// The example's logger (after `bootstrap`) with `address` as the device's metadata, for
    /// the loops that run on that device.
    public static func logger(_ label: String, device address: String) -> Logger {
        Logger(label: label).forDevice(address: try? PCIAddress(parsing: address), driver: nil)
    }
}
