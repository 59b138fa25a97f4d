import Logging
import Scheduler

/// The examples' `--metrics-file PATH`: swift-metrics bootstrapped to a Prometheus registry,
/// one `DeviceMetrics` per device, and the file rewritten at each stats tick.
public struct MetricsExport: Sendable {
    public let file: PrometheusFile
    let logger: Logger

    /// nil without `--metrics-file`. Otherwise bootstraps swift-metrics (once per process) and
    /// writes the (still empty) file at once, so that a bad path fails before any device opens.
    public static func start(path: String?, logger: Logger) throws -> MetricsExport? {
        guard let path else { return nil }
        let export = MetricsExport(file: PrometheusFile.bootstrap(path: path), logger: logger)
        try export.file.write()
        logger.info("writing metrics in Prometheus text format", metadata: ["metrics-file": "\(path)"])
        return export
    }

    /// The series of the device at `address`, driven by `driver`.
    public func device(_ address: String, driver: String) -> DeviceMetrics {
        DeviceMetrics(address: address, driver: driver)
    }

    /// Rewrites the file; a failure is logged and the run goes on (metrics are not worth
    /// stopping the packets for).
    public func write() {
        do {
            try file.write()
        } catch {
            logger.error("\(error)")
        }
    }
}
