import ArgumentParser
import Logging
import ExampleSupport
import UIODevices
import PacketProcessing
import Scheduler
import UIO

/// Answers ARP, ICMP echo and UDP echo (port 7) on a NIC bound to UIO, so the host can ping it.
struct EchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Answer ARP, ICMP echo and UDP echo (port 7) on a NIC bound to uio_pci_generic or vfio-pci.")

    @Argument(help: "PCI address of the NIC, DDDD:BB:DD.F (see `uioctl list`).")
    var pciAddress: String

    @Option(help: "IPv4 address to answer for, with an optional prefix (192.0.2.2/24).")
    var ip: String

    @Option(help: "hybrid (poll while busy, sleep on the interrupt when idle), poll, or interrupt.")
    var mode: SchedulerPolicy.Mode = .hybrid

    @Option(help: "Print rx/tx/drop counts every N seconds (0: never).")
    var statsInterval: Int = 0

    @Option(help: "Packets per receive call.")
    var batch: Int = 32

    @Option(help: "Empty polls before sleeping, in hybrid mode.")
    var idlePolls: Int = 300

    @Option(help: "Write every received frame to this pcap file.")
    var pcap: String?

    @Option(help: "RX/TX queue pairs, one thread each (virtio-net needs mq=on for more than 1; ixgbe and igb spread flows with RSS over up to 16).")
    var queues: Int = 1

    @Option(help: "Pin queue q's thread to core cores[q % count], e.g. 0,1.")
    var cores: String?

    @Option(help: "Kernel route to the NIC: auto (whatever it is bound to), uio or vfio.")
    var backend: Backend = .auto

    @Option(help: "Log level (to stderr): trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Write metrics in Prometheus text format to this file at every stats tick (atomically, for node_exporter's textfile collector).")
    var metricsFile: String?

    func validate() throws {
        guard IPv4Address(parsing: ip) != nil else { throw ValidationError("--ip '\(ip)' is not an IPv4 address such as 192.0.2.2/24") }
        guard (1...512).contains(batch) else { throw ValidationError("--batch must be between 1 and 512") }
        guard statsInterval >= 0 else { throw ValidationError("--stats-interval must be 0 or more") }
        guard idlePolls >= 1 else { throw ValidationError("--idle-polls must be at least 1") }
        guard (1...64).contains(queues) else { throw ValidationError("--queues must be between 1 and 64") }
        guard queues == 1 || pcap == nil else { throw ValidationError("--pcap works with --queues 1 only (one writer)") }
    }

    func run() throws {
        let logger = ExampleLogging.bootstrap("echo-server", level: logLevel)
        try reportingErrors {
            let metrics = try MetricsExport.start(path: metricsFile, logger: logger)
            let cores = try parseCores(cores)
            if queues > 1 || !cores.isEmpty {
                var server = MultiQueueServer(options: self, cores: cores, metrics: metrics)
                try DeviceOpener.with(pciAddress, queues: queues, backend: backend, logger: logger, &server)
                return
            }
            var server = Server(options: self, pcap: try pcap.map { try PcapWriter(path: $0) }, metrics: metrics)
            try DeviceOpener.with(pciAddress, backend: backend, logger: logger, &server)
        }
    }
}

/// Runs the echo loop on whichever driver the device needs.
struct Server: DeviceUser, ~Copyable {
    let options: EchoServer
    var pcap: PcapWriter?
    let metrics: MetricsExport?

    mutating func use<D: NetworkDevice & ~Copyable>(_ device: inout D) throws {
        let address = IPv4Address(parsing: options.ip)!
        var handler = EchoHandler(responder: EchoResponder(mac: device.macAddress, ip: address),
                                  statsInterval: options.statsInterval, pcap: pcap.take(), metrics: metrics)
        let policy = SchedulerPolicy(mode: options.mode, emptyPollsBeforeSleep: options.idlePolls, batchSize: options.batch)
        var loop = PacketLoop(policy: policy, tickInterval: .seconds(max(1, options.statsInterval)),
                              logger: ExampleLogging.logger("echo-server", device: options.pciAddress),
                              metrics: metrics?.device(options.pciAddress, driver: device.driverName))
        StopSignal.installHandlers()
        Console.line("echo-server: \(device.driverName) \(options.pciAddress) mac \(device.macAddress) ip \(address) link \(device.link) mode \(options.mode.rawValue): ready")
        try loop.run(device: &device, handler: &handler)
        let poolAtStop = device.bufferPoolAvailable.map { " pool-free=\($0)" } ?? ""
        device.shutdown()
        handler.pcap?.flush()
        metrics?.write()  // the loop recorded its last figures as it stopped
        Console.line("echo-server: stopped, device reset. \(handler.statsLine(&device))\(poolAtStop) \(loop.statistics.summary)")
    }
}

/// Rewrites each frame into its reply and sends the batch back out.
struct EchoHandler: BatchHandler, ~Copyable {
    var responder: EchoResponder
    let statsInterval: Int
    var pcap: PcapWriter?
    let metrics: MetricsExport?
    var txDropped: UInt64 = 0

    mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
        if pcap != nil {
            for i in 0..<batch.count { pcap!.write(UnsafeRawBufferPointer(batch[i].bytes)) }
        }
        responder.replyInPlace(&batch)
        if batch.isEmpty { return }
        let toSend = batch.count
        txDropped &+= UInt64(toSend - device.transmit(queue: queue, from: &batch))
    }

    mutating func tick<D: NetworkDevice & ~Copyable>(device: inout D) {
        pcap?.flush()
        metrics?.write()  // PacketLoop recorded the metrics just before this tick
        if statsInterval > 0 { Console.line("echo-server: \(statsLine(&device))") }
    }

    mutating func linkChanged<D: NetworkDevice & ~Copyable>(device: inout D) {
        Console.line("echo-server: link \(device.link)")
    }

    func statsLine<D: NetworkDevice & ~Copyable>(_ device: inout D) -> String {
        let s = device.statistics()
        // pool-free: buffers left in the driver's pool; falling over a long run means a leak.
        let pool = device.bufferPoolAvailable.map { " pool-free=\($0)" } ?? ""
        return "rx=\(s.rxPackets) tx=\(s.txPackets) rx-bytes=\(s.rxBytes) tx-bytes=\(s.txBytes) rx-dropped=\(s.rxDropped) rx-oversize=\(s.rxOversize) tx-dropped=\(txDropped) link=\(device.link)\(pool) \(responder.counters.summary)"
    }
}


EchoServer.main()
