#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import Prometheus
import Scheduler
import UIO

/// `--metrics-file PATH`: the examples' metrics in Prometheus text format, in a file that
/// node_exporter's textfile collector reads (`--collector.textfile.directory`).
///
/// A file, not an HTTP endpoint: a packet-processing process should not carry an HTTP server
/// (and SwiftNIO's event loops) beside its packet threads, and the textfile collector is the
/// standard way for a host's own jobs to publish metrics. Each `write()` replaces the file
/// atomically (a temporary file in the same directory, then rename(2)), so the collector
/// never reads half a file.
public struct PrometheusFile: Sendable {
    public let path: String
    public let registry: PrometheusCollectorRegistry

    /// A registry for `path`, and swift-metrics bootstrapped to it (once per process).
    public static func bootstrap(path: String) -> PrometheusFile {
        let file = PrometheusFile(path: path)
        MetricsSystem.bootstrap(DescribedPrometheusFactory(registry: file.registry))
        return file
    }

    public init(path: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.path = path
        self.registry = registry
    }

    /// Writes every metric of the registry to `path`, atomically.
    public func write() throws {
        var text: [UInt8] = []
        registry.emit(into: &text)
        // Not `*.prom`, so that the collector never picks up the temporary file.
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var written = 0
        while written < text.count {
            let n = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = failure("cannot write \(temporary)")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
    }

    func failure(_ what: String) -> UIOError {
        UIOError.device("--metrics-file: \(what): \(String(cString: strerror(errno))); give a path in a writable directory (node_exporter's textfile directory)")
    }
}

/// PrometheusMetricsFactory, but every series of `DeviceMetrics` gets its `# HELP` line
/// (swift-metrics has no help text; promtool's lint wants one).
public struct DescribedPrometheusFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let plain: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        plain = PrometheusMetricsFactory(registry: registry)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let help = DeviceMetrics.Name.help[label] else { return plain.makeCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: Self.descriptor(label, help), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        plain.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard !aggregate, let help = DeviceMetrics.Name.help[label] else {
            return plain.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        }
        return registry.makeGauge(descriptor: Self.descriptor(label, help), labels: dimensions)
    }

    /// The label as the whole name (our labels already end in their unit, `_total` and so on).
    static func descriptor(_ label: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        plain.makeMeter(label: label, dimensions: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        plain.makeTimer(label: label, dimensions: dimensions)
    }

    public func destroyCounter(_ handler: any CounterHandler) { plain.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { plain.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { plain.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { plain.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { plain.destroyTimer(handler) }
}
