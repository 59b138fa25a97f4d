import ArgumentParser
import Logging
import ExampleSupport
import UIODevices
import PacketProcessing
import Scheduler
import UIO

/// Forwards frames both ways between two NICs, touching each (as ixy-fwd does).
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
        guard queues == 1 || pcap == nil else { throw ValidationError("--pcap works with --queues 1 only (one writer)") }
        guard queues == 1 || metricsFile == nil else {
            throw ValidationError("--metrics-file works with --queues 1 only for now (the multi-queue forwarder has no control thread for the first NIC)")
        }
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
                var forwarding = MultiQueueForwarding(options: self, cores: cores)
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
        var pcap = try pcapPath.map { try PcapWriter(path: $0) }
        StopSignal.installHandlers()
        Console.line("forwarder: \(options.pciA) (\(a.driverName), link \(a.link)) <-> \(options.pciB) (\(b.driverName), link \(b.link)), batch \(options.batch): ready")
        var batch = PacketBatch(capacity: options.batch)
        let clock = ContinuousClock()
        let start = clock.now
        var lastReport = start
        var previousA = a.statistics(), previousB = b.statistics()
        var metricsA = metrics?.device(options.pciA, driver: a.driverName), metricsB = metrics?.device(options.pciB, driver: b.driverName)
        // At each report (once a second) and at the stop: never per packet.
        func export(_ sa: DeviceStatistics, _ sb: DeviceStatistics, _ a: inout A, _ b: inout B) {
            guard let metrics else { return }
            metricsA?.record(queue: "0", statistics: sa, poolFree: a.bufferPoolAvailable)
            metricsA?.record(link: a.link)
            metricsB?.record(queue: "0", statistics: sb, poolFree: b.bufferPoolAvailable)
            metricsB?.record(link: b.link)
            metrics.write()
        }
        var dropped: UInt64 = 0
        var polls = 0
        while !StopSignal.isRequested {
            dropped &+= forwardBatch(from: &a, to: &b, batch: &batch, pcap: &pcap)
            dropped &+= forwardBatch(from: &b, to: &a, batch: &batch, pcap: &pcap)
            polls &+= 1
            if polls & 0xfff == 0 {
                let now = clock.now
                if options.seconds > 0 && now - start >= .milliseconds(Int(options.seconds * 1000)) { break }
                if now - lastReport >= .seconds(1) {
                    let seconds = (now - lastReport) / .seconds(1)
                    let sa = a.statistics(), sb = b.statistics()
                    Console.line("forwarder: \(options.pciA) " + rate(sa, previousA, seconds) + " | \(options.pciB) " + rate(sb, previousB, seconds))
                    export(sa, sb, &a, &b)
                    previousA = sa
                    previousB = sb
                    lastReport = now
                    pcap?.flush()
                }
            }
        }
        pcap?.flush()
        let sa = a.statistics(), sb = b.statistics()
        export(sa, sb, &a, &b)
        // rx-oversize: frames longer than Ethernet allows, which the NIC or driver discarded
        // instead of forwarding them as giants.
        Console.line("forwarder: stopped. \(options.pciA) rx=\(sa.rxPackets) tx=\(sa.txPackets) rx-oversize=\(sa.rxOversize), "
                     + "\(options.pciB) rx=\(sb.rxPackets) tx=\(sb.txPackets) rx-oversize=\(sb.rxOversize), dropped=\(dropped)")
    }

    /// Receives one batch on `from`, touches each frame, sends it on `to`; returns frames dropped.
    @inline(__always)
    func forwardBatch<X: NetworkDevice & ~Copyable, Y: NetworkDevice & ~Copyable>(
        from: inout X, to: inout Y, batch: inout PacketBatch, pcap: inout PcapWriter?
    ) -> UInt64 {
        let received = from.receive(queue: 0, into: &batch)
        if received == 0 { return 0 }
        for i in 0..<received {
            let frame = batch[i]
            if pcap != nil { pcap!.write(UnsafeRawBufferPointer(frame.bytes)) }
            // Touch the frame, as a real forwarder would (ixy-fwd increments data[1]).
            frame.data.storeBytes(of: frame.data.load(fromByteOffset: 1, as: UInt8.self) &+ 1, toByteOffset: 1, as: UInt8.self)
        }
        let sent = to.transmit(queue: 0, from: &batch)
        let left = batch.count
        batch.removeAll()
        _ = sent
        return UInt64(left)
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
