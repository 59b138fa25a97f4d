import ExampleSupport
import Foundation
import Scheduler
import Testing
import UIO
import UIOSimulator
import VirtioNet

/// `--metrics-file`: what a packet loop records ends up in a Prometheus text file that
/// `promtool check metrics` accepts, replaced atomically at each write.
@Suite struct PrometheusFileTests {
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// As root (CI runs as root, after scripts/install-deps) a missing promtool is a failure.
    static let promtoolRequired = getuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil

    /// Drops whatever arrives.
    struct Drop: BatchHandler {
        mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {}
    }

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "/swift-uio-prom-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A simulated NIC receives 5 frames under a `PacketLoop` whose metrics go to `file`.
    func runLoop(into file: PrometheusFile) throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: .modern), dma: dma)
        var device = try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma)
        let frame: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5] + [UInt8](repeating: 7, count: 46)
        for _ in 0..<5 {
            model.inject(frame: frame)
            model.step()
        }
        let metrics = DeviceMetrics(address: "0000:00:04.0", driver: device.driverName, factory: DescribedPrometheusFactory(registry: file.registry))
        var loop = PacketLoop(policy: SchedulerPolicy(mode: .poll), tickInterval: .milliseconds(1), metrics: metrics)
        var handler = Drop()
        let clock = ContinuousClock()
        let start = clock.now
        try loop.run(device: &device, handler: &handler) { clock.now - start > .milliseconds(50) }
        device.shutdown()
        try file.write()
    }

    func check(_ path: String, with promtool: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test(.enabled(if: promtool != nil || promtoolRequired,
                   "promtool is not installed (Debian package prometheus; scripts/install-deps installs it as root)"))
    func promtoolAcceptsTheFile() throws {
        guard let promtool = Self.promtool else {
            Issue.record("promtool is missing: install Debian's prometheus package (scripts/install-deps does, as root)")
            return
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/swift-uio.prom"
        try runLoop(into: PrometheusFile(path: path))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(#"uio_rx_packets_total{device="0000:00:04.0",driver="virtio-net",queue="0"} 5"#), "\(text)")
        #expect(text.contains(#"uio_rx_bytes_total{device="0000:00:04.0",driver="virtio-net",queue="0"} 300"#), "\(text)")
        #expect(text.contains(#"uio_link_up{device="0000:00:04.0",driver="virtio-net"} 1"#), "\(text)")
        #expect(text.contains("# HELP uio_dropped_packets_total"), "\(text)")
        let result = try check(path, with: promtool)
        #expect(result.status == 0, "promtool check metrics: \(result.output)\n\(text)")

        // The check is real: the same text without its HELP lines fails promtool's lint.
        let bare = directory + "/bare.prom"
        try text.split(separator: "\n").filter { !$0.hasPrefix("# HELP") }.joined(separator: "\n").appending("\n")
            .write(toFile: bare, atomically: true, encoding: .utf8)
        #expect(try check(bare, with: promtool).status != 0)
    }

    @Test func eachWriteReplacesTheFileAndLeavesNoTemporaryFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/swift-uio.prom"
        let file = PrometheusFile(path: path)
        try "stale\n".write(toFile: path, atomically: false, encoding: .utf8)
        try runLoop(into: file)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("stale"))
        #expect(text.hasSuffix("\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["swift-uio.prom"])
    }

    @Test func anUnwritableDirectorySaysWhatToDo() throws {
        let file = PrometheusFile(path: "/nonexistent-swift-uio-dir/swift-uio.prom")
        let error = #expect(throws: UIOError.self) { try file.write() }
        #expect("\(error!)".contains("writable directory"))
    }
}
