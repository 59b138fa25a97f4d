import ArgumentParser
import Logging
import ExampleSupport
import UIODevices
import Scheduler
import UIO

/// Sends UDP frames with a sequence number as fast as the NIC takes them, or at `--rate`.
struct PacketGenerator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pktgen",
        abstract: "Send UDP frames with a sequence number from a NIC bound to UIO.")

    @Argument(help: "PCI address of the NIC, DDDD:BB:DD.F.")
    var pciAddress: String

    @Option(help: "Stop after this many seconds.")
    var seconds: Double = 10

    @Option(help: "Frame size in bytes, without the FCS (60 to 1514).")
    var size: Int = 60

    @Option(help: "Frames per transmit call.")
    var batch: Int = 64

    @Option(help: "Packets per second (0: as fast as possible).")
    var rate: Int = 0

    @Option(help: "Destination MAC address.")
    var dstMac: String = "ff:ff:ff:ff:ff:ff"

    @Option(help: "Source and destination IPv4 addresses in the UDP frames.")
    var srcIp: String = "192.0.2.2"
    @Option var dstIp: String = "192.0.2.1"

    @Option(help: "TX queue pairs, one sending thread each (virtio-net needs mq=on for more than 1; ixgbe and igb: up to 16).")
    var queues: Int = 1

    @Option(help: "Pin queue q's thread to core cores[q % count], e.g. 0,1.")
    var cores: String?

    @Flag(help: "Send nothing: receive every frame, count it and drop it (the counterpart of DPDK testpmd's rxonly).")
    var receiveOnly = false

    @Option(help: "With --receive-only: hybrid (poll while frames flow, sleep on the interrupt when idle), poll or interrupt.")
    var mode: SchedulerPolicy.Mode = .hybrid

    @Option(help: "Kernel route to the NIC: auto (whatever it is bound to), uio or vfio.")
    var backend: Backend = .auto

    @Option(help: "Log level (to stderr): trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Write metrics in Prometheus text format to this file at every stats tick (atomically, for node_exporter's textfile collector).")
    var metricsFile: String?

    func validate() throws {
        guard (60...1514).contains(size) else { throw ValidationError("--size must be between 60 and 1514") }
        guard (1...512).contains(batch) else { throw ValidationError("--batch must be between 1 and 512") }
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds must be above 0 and at most 86400") }
        guard (1...64).contains(queues) else { throw ValidationError("--queues must be between 1 and 64") }
        guard !receiveOnly || queues == 1 else { throw ValidationError("--receive-only works on one queue; drop --queues") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 (unlimited) or more") }
        guard MACAddress(parsing: dstMac) != nil else { throw ValidationError("--dst-mac '\(dstMac)' is not a MAC address") }
        guard parseIPv4(srcIp) != nil, parseIPv4(dstIp) != nil else { throw ValidationError("--src-ip/--dst-ip must be IPv4 addresses") }
    }

    func run() throws {
        let logger = ExampleLogging.bootstrap("pktgen", level: logLevel)
        try reportingErrors {
            let metrics = try MetricsExport.start(path: metricsFile, logger: logger)
            let cores = try parseCores(cores)
            if queues > 1 || !cores.isEmpty {
                var generator = MultiQueueGenerator(options: self, cores: cores, metrics: metrics)
                try DeviceOpener.with(pciAddress, queues: queues, backend: backend, logger: logger, &generator)
                return
            }
            var generator = Generator(options: self, metrics: metrics)
            try DeviceOpener.with(pciAddress, backend: backend, logger: logger, &generator)
        }
    }
}

struct Generator: DeviceUser {
    let options: PacketGenerator
    let metrics: MetricsExport?

    /// Records the device's totals and link and rewrites the metrics file (once a second).
    func export<D: NetworkDevice & ~Copyable>(_ series: inout DeviceMetrics?, _ device: inout D) {
        guard let metrics else { return }
        series?.record(queue: "0", statistics: device.statistics(), poolFree: device.bufferPoolAvailable)
        series?.record(link: device.link)
        metrics.write()
    }

    mutating func use<D: NetworkDevice & ~Copyable>(_ device: inout D) throws {
        if options.receiveOnly { return try receiveOnly(&device) }
        let pool = try Mempool(count: 2048, allocator: HugepageAllocator())
        defer { pool.destroy(using: HugepageAllocator()) }
        // Prefill every buffer once (as ixy does): only the sequence number changes per packet.
        let template = UDPFrameTemplate(size: options.size, source: device.macAddress,
                                        destination: MACAddress(parsing: options.dstMac)!,
                                        sourceIP: parseIPv4(options.srcIp)!, destinationIP: parseIPv4(options.dstIp)!)
        var fill = PacketBatch(capacity: pool.capacity)
        while let buffer = pool.allocate() { fill.append(buffer) }
        for i in 0..<fill.count { template.write(into: fill[i]) }
        fill.removeAll()

        StopSignal.installHandlers()
        Console.line("pktgen: \(device.driverName) \(options.pciAddress) mac \(device.macAddress) link \(device.link), \(options.size)-byte frames, batch \(options.batch)\(options.rate > 0 ? ", \(options.rate) pps" : ""): ready")
        var batch = PacketBatch(capacity: options.batch)
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int(options.seconds * 1000))
        var nextReport = start + .seconds(1)
        var sequence: UInt32 = 0
        var sent: UInt64 = 0
        var sentAtReport: UInt64 = 0
        var iterations = 0
        var transmitCalls: UInt64 = 0
        var ringFull: UInt64 = 0
        var series = metrics?.device(options.pciAddress, driver: device.driverName)
        while !StopSignal.isRequested {
            iterations &+= 1
            var now = start
            if iterations & 63 == 0 || options.rate > 0 {
                now = clock.now
                if now >= end { break }
                if now >= nextReport {
                    Console.line("pktgen: \(sent - sentAtReport) pps")
                    export(&series, &device)
                    sentAtReport = sent
                    nextReport = nextReport + .seconds(1)
                }
            }
            var want = batch.capacity
            if options.rate > 0 {
                // Sent so far must not run ahead of rate × elapsed time.
                let elapsed = (now - start) / .seconds(1)
                let allowed = UInt64(elapsed * Double(options.rate))
                if allowed <= sent { continue }
                want = min(want, Int(allowed - sent))
            }
            // Only the sequence number changes: the frame and its length stay in the buffer.
            _ = batch.fill(from: pool, upTo: want) { packet in
                UDPFrameTemplate.setSequence(sequence, in: packet)
                sequence &+= 1
            }
            sent &+= UInt64(device.transmit(queue: 0, from: &batch))
            transmitCalls &+= 1
            // Frames left over: the ring was full, so the NIC (not this loop) set the pace.
            if batch.count > 0 { ringFull &+= 1 }
            // Frames the ring could not take stay in the batch and go first next time, so the
            // sequence numbers on the wire have no gaps.
        }
        let seconds = (clock.now - start) / .seconds(1)
        export(&series, &device)
        device.shutdown()
        Console.line("pktgen: the TX ring was full on \(ringFull) of \(transmitCalls) transmit calls")
        Console.line("sent \(sent) packets in \(seconds.decimalText(2)) s (\(Int(Double(sent) / max(seconds, 1e-9))) pps)")
    }
}

extension Generator {
    /// Receive-only mode: the scheduler's loop receives in batches; every frame is counted and
    /// dropped. The receive path alone (descriptor reap, refill, one notify per batch), for
    /// comparison with testpmd rxonly.
    func receiveOnly<D: NetworkDevice & ~Copyable>(_ device: inout D) throws {
        StopSignal.installHandlers()
        Console.line("pktgen: \(device.driverName) \(options.pciAddress) mac \(device.macAddress) link \(device.link), receive only, batch \(options.batch), mode \(options.mode.rawValue): ready")
        // Ticks every 100 ms, so that --seconds ends the run on time; rates print once a second.
        var loop = PacketLoop(policy: SchedulerPolicy(mode: options.mode, batchSize: options.batch), tickInterval: .milliseconds(100),
                              logger: ExampleLogging.logger("pktgen", device: options.pciAddress))
        var counter = DropCounter(generator: self, series: metrics?.device(options.pciAddress, driver: device.driverName))
        try loop.run(device: &device, handler: &counter)
        let seconds = (counter.clock.now - counter.start) / .seconds(1)
        export(&counter.series, &device)
        device.shutdown()
        Console.line("received \(counter.received) packets in \(seconds.decimalText(2)) s (\(Int(Double(counter.received) / max(seconds, 1e-9))) pps) \(loop.statistics.summary)")
    }
}

/// Counts what the loop receives and drops it (the loop frees what a handler leaves).
struct DropCounter: BatchHandler {
    let generator: Generator
    var series: DeviceMetrics?
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    var nextReport: ContinuousClock.Instant
    var received: UInt64 = 0
    var receivedAtReport: UInt64 = 0

    init(generator: Generator, series: DeviceMetrics?) {
        self.generator = generator
        self.series = series
        start = clock.now
        nextReport = start + .seconds(1)
    }

    mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
        received &+= UInt64(batch.count)
    }

    mutating func tick<D: NetworkDevice & ~Copyable>(device: inout D) {
        let now = clock.now
        if now - start >= .milliseconds(Int(generator.options.seconds * 1000)) { StopSignal.request() }
        guard now >= nextReport else { return }
        Console.line("pktgen: received \(received - receivedAtReport) pps")
        generator.export(&series, &device)
        receivedAtReport = received
        nextReport = nextReport + .seconds(1)
    }
}

func parseIPv4(_ text: String) -> UInt32? {
    let parts = text.split(separator: ".").compactMap { UInt8($0) }
    guard parts.count == 4 else { return nil }
    return parts.reduce(0) { $0 << 8 | UInt32($1) }
}


PacketGenerator.main()
