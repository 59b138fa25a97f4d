import ArgumentParser
import Logging
import ExampleSupport
import UIODevices
import PacketProcessing
import Scheduler
import UIO

/// Forwards frames both ways between two NICs, touching each (as ixy-fwd does). One
/// `PacketLoop` serves both NICs (`DevicePair`): in hybrid mode it sleeps on both NICs'
/// interrupts once both have been idle for a while.
struct Forwarder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forwarder",
        abstract: "Forward frames in both directions between two NICs bound to UIO.")

    @Argument(help: "PCI address of the first NIC.")
    var pciA: String

    @Argument(help: "PCI address of the second NIC.")
    var pciB: String

    @Option(help: "Frames per receive call.")
    var batch: Int = 32

    @Option(help: "Stop after this many seconds (0: run until SIGINT/SIGTERM).")
    var seconds: Double = 0

    @Option(help: "hybrid (poll while frames flow, sleep on both NICs' interrupts when idle), poll or interrupt.")
    var mode: SchedulerPolicy.Mode = .hybrid

    @Option(help: "Empty polls of both NICs before sleeping, in hybrid mode.")
    var idlePolls: Int = 300

    @Option(help: "When the other NIC's TX ring is full, try this many more times (reaping its completions) before dropping what is left; 0 drops at once, as ixy-fwd does.")
    var txRetries: Int = 1000

    @Option(help: "Write every received frame (both ports) to this pcap file.")
    var pcap: String?

    @Option(help: "Queue pairs per NIC; thread q forwards between the two NICs' queue q.")
    var queues: Int = 1

    @Option(help: "Pin queue q's thread to core cores[q % count], e.g. 0,1.")
    var cores: String?

    @Option(help: "Kernel route to the NICs: auto (whatever each is bound to), uio or vfio.")
    var backend: Backend = .auto

    @Option(help: "Log level (to stderr): trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Write metrics in Prometheus text format to this file at every stats tick (atomically, for node_exporter's textfile collector).")
    var metricsFile: String?

    func validate() throws {
        guard (1...512).contains(batch) else { throw ValidationError("--batch must be between 1 and 512") }
        guard seconds >= 0 else { throw ValidationError("--seconds must be 0 or more") }
        guard (1...64).contains(queues) else { throw ValidationError("--queues must be between 1 and 64") }
        guard idlePolls >= 1 else { throw ValidationError("--idle-polls must be at least 1") }
        guard (0...1_000_000).contains(txRetries) else { throw ValidationError("--tx-retries must be between 0 and 1000000") }
        guard queues == 1 || pcap == nil else { throw ValidationError("--pcap works with --queues 1 only (one writer)") }
    }

    func run() throws {
        let logger = ExampleLogging.bootstrap("forwarder", level: logLevel)
        try reportingErrors {
            let metrics = try MetricsExport.start(path: metricsFile, logger: logger)
            let cores = try parseCores(cores)
            if queues > 1 || !cores.isEmpty {
                guard try PCIAddress(parsing: pciA) != PCIAddress(parsing: pciB) else {
                    throw UIOError.device("the two devices must differ (both are \(pciA))")
                }
                StopSignal.installHandlers()
                var forwarding = MultiQueueForwarding(options: self, cores: cores, metrics: metrics)
                try DeviceOpener.with(pciA, queues: queues, backend: backend, logger: logger, &forwarding)
                return
            }
            var forwarding = Forwarding(options: self, pcapPath: pcap, metrics: metrics)
            try DeviceOpener.with(pciA, pciB, backend: backend, logger: logger, &forwarding)
        }
    }
}

struct Forwarding: DevicePairUser {
    let options: Forwarder
    let pcapPath: String?
    let metrics: MetricsExport?

    mutating func use<A: NetworkDevice & ~Copyable, B: NetworkDevice & ~Copyable>(_ a: inout A, _ b: inout B) throws {
        StopSignal.installHandlers()
        let mode = options.mode
        Console.line("forwarder: \(options.pciA) (\(a.driverName), link \(a.link)) <-> \(options.pciB) (\(b.driverName), link \(b.link)), batch \(options.batch), mode \(mode.rawValue): ready")
        let policy = SchedulerPolicy(mode: mode, emptyPollsBeforeSleep: options.idlePolls, batchSize: options.batch)
        // Ticks every 100 ms, so that --seconds ends the run on time; rates print once a second.
        var loop = PacketLoop(policy: policy, tickInterval: .milliseconds(100),
                              logger: ExampleLogging.logger("forwarder", device: "\(options.pciA)+\(options.pciB)"))
        let summary = try withDevicePair(&a, &b) { pair in
            let pcap = try pcapPath.map { try PcapWriter(path: $0) }
            var handler = ForwardHandler(options: options, a: pair.first, b: pair.second, pcap: pcap, metrics: metrics)
            try loop.run(device: &pair, handler: &handler)
            return handler.finish() + " interrupts=\(pair.firstInterrupts)/\(pair.secondInterrupts)"
        }
        Console.line(summary + " \(loop.statistics.summary)")
    }
}

/// Forwards each batch the loop receives out of the other NIC: A's RX queue 0 to B's TX
/// queue 0 and back. Prints rates and writes metrics once a second.
struct ForwardHandler<A: NetworkDevice & ~Copyable, B: NetworkDevice & ~Copyable>: BatchHandler, ~Copyable {
    let options: Forwarder
    let a: UnsafeMutablePointer<A>
    let b: UnsafeMutablePointer<B>
    var pcap: PcapWriter?
    let metrics: MetricsExport?
    var metricsA: DeviceMetrics?
    var metricsB: DeviceMetrics?
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    var lastReport: ContinuousClock.Instant
    var previousA: DeviceStatistics
    var previousB: DeviceStatistics
    /// Frames received that the other NIC's TX ring had no room for (freed, counted).
    var dropped: UInt64 = 0

    init(options: Forwarder, a: UnsafeMutablePointer<A>, b: UnsafeMutablePointer<B>, pcap: consuming PcapWriter?, metrics: MetricsExport?) {
        self.options = options
        self.a = a
        self.b = b
        self.pcap = pcap
        self.metrics = metrics
        metricsA = metrics?.device(options.pciA, driver: a.pointee.driverName)
        metricsB = metrics?.device(options.pciB, driver: b.pointee.driverName)
        start = clock.now
        lastReport = start
        previousA = a.pointee.statistics()
        previousB = b.pointee.statistics()
    }

    mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
        for i in 0..<batch.count {
            let frame = batch[i]
            if pcap != nil { pcap!.write(UnsafeRawBufferPointer(frame.bytes)) }
            // Touch the frame, as a real forwarder would (ixy-fwd increments data[1]).
            frame.data.storeBytes(of: frame.data.load(fromByteOffset: 1, as: UInt8.self) &+ 1, toByteOffset: 1, as: UInt8.self)
        }
        // The pair numbers A's RX queue 0, then B's.
        if queue == 0 { send(&batch, on: b) } else { send(&batch, on: a) }
        // What the TX ring could not take is freed by the loop.
        dropped &+= UInt64(batch.count)
    }

    /// Transmits `batch`; while the ring is full, tries again (each try reaps what the NIC has
    /// sent) up to `--tx-retries` times. Waiting here holds the next receive back, so a burst
    /// (after a wake-up, say) backs up into the RX ring and the host's queue instead of being
    /// dropped; only a NIC that stays full loses frames.
    @inline(__always)
    func send<X: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, on nic: UnsafeMutablePointer<X>) {
        _ = nic.pointee.transmit(queue: 0, from: &batch)
        var tries = 0
        while batch.count > 0 && tries < options.txRetries {
            _ = nic.pointee.transmit(queue: 0, from: &batch)
            tries += 1
        }
    }

    mutating func tick<D: NetworkDevice & ~Copyable>(device: inout D) {
        let now = clock.now
        if options.seconds > 0 && now - start >= .milliseconds(Int(options.seconds * 1000)) { StopSignal.request() }
        guard now - lastReport >= .seconds(1) else { return }
        let seconds = (now - lastReport) / .seconds(1)
        let sa = a.pointee.statistics(), sb = b.pointee.statistics()
        Console.line("forwarder: \(options.pciA) " + rate(sa, previousA, seconds) + " | \(options.pciB) " + rate(sb, previousB, seconds))
        export(sa, sb)
        previousA = sa
        previousB = sb
        lastReport = now
        pcap?.flush()
    }

    /// At each report (once a second) and at the stop: never per packet.
    mutating func export(_ sa: DeviceStatistics, _ sb: DeviceStatistics) {
        guard let metrics else { return }
        metricsA?.record(queue: "0", statistics: sa, poolFree: a.pointee.bufferPoolAvailable)
        metricsA?.record(link: a.pointee.link)
        metricsB?.record(queue: "0", statistics: sb, poolFree: b.pointee.bufferPoolAvailable)
        metricsB?.record(link: b.pointee.link)
        metrics.write()
    }

    /// The last metrics and the closing line.
    mutating func finish() -> String {
        pcap?.flush()
        let sa = a.pointee.statistics(), sb = b.pointee.statistics()
        export(sa, sb)
        // rx-oversize: frames longer than Ethernet allows, which the NIC or driver discarded
        // instead of forwarding them as giants.
        return "forwarder: stopped. \(options.pciA) rx=\(sa.rxPackets) tx=\(sa.txPackets) rx-oversize=\(sa.rxOversize), "
            + "\(options.pciB) rx=\(sb.rxPackets) tx=\(sb.txPackets) rx-oversize=\(sb.rxOversize), dropped=\(dropped)"
    }

    /// Mpps and Mbit/s on the wire (each frame plus 24 bytes of preamble, gap and FCS).
    func rate(_ now: DeviceStatistics, _ before: DeviceStatistics, _ seconds: Double) -> String {
        let rxPackets = Double(now.rxPackets - before.rxPackets), txPackets = Double(now.txPackets - before.txPackets)
        let rxBits = (Double(now.rxBytes - before.rxBytes) + 24 * rxPackets) * 8
        let txBits = (Double(now.txBytes - before.txBytes) + 24 * txPackets) * 8
        return "rx \((rxPackets / seconds / 1e6).decimalText(3)) Mpps \((rxBits / seconds / 1e6).decimalText(1)) Mbit/s, "
            + "tx \((txPackets / seconds / 1e6).decimalText(3)) Mpps \((txBits / seconds / 1e6).decimalText(1)) Mbit/s"
    }
}


Forwarder.main()
