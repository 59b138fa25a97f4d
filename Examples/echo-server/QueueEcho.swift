import ExampleSupport
import UIODevices
import PacketProcessing
import Scheduler
import Synchronization
import UIO

/// `--queues N`: one echo loop per queue pair, each on its own thread with its own responder
/// and counters; the device's interrupt line is watched on the main thread (`QueueThreads`).
struct MultiQueueServer: MultiQueueDeviceUser {
    let options: EchoServer
    let cores: [Int]
    let metrics: MetricsExport?

    mutating func use<D: MultiQueueDevice & ~Copyable>(_ device: inout D) throws {
        let address = IPv4Address(parsing: options.ip)!
        Console.line("echo-server: \(device.driverName) \(options.pciAddress) mac \(device.macAddress) ip \(address) link \(device.link) mode \(options.mode.rawValue) queues \(device.rxQueueCount)\(cores.isEmpty ? "" : " cores \(cores.map(String.init).joined(separator: ","))"): ready")
        var runner = QueueRunner(options: options, mac: device.macAddress, ip: address, cores: cores, metrics: metrics)
        StopSignal.installHandlers()
        try device.withDetachedQueues(&runner)
        var total = DeviceStatistics()
        for q in 0..<device.rxQueueCount { total += device.queueStatistics(q) }
        let pool = device.bufferPoolAvailable.map { " pool-free=\($0)" } ?? ""
        device.shutdown()
        Console.line("echo-server: stopped, device reset. rx=\(total.rxPackets) tx=\(total.txPackets) link=\(device.link)\(pool) interrupts=\(runner.control.interrupts) queue-wakes=\(runner.control.wakes)")
    }
}

struct QueueRunner: QueueSetUser {
    let options: EchoServer
    let mac: MACAddress
    let ip: IPv4Address
    let cores: [Int]
    let metrics: MetricsExport?
    var control = QueueThreads.ControlStatistics()

    mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws {
        let waker = try QueueWaker(queues: queues.count)
        defer { waker.destroy() }
        // Longer sleeps than the single-queue loop's 100 ms: a stop wakes every queue through
        // the waker, so the timeouts only pace the statistics ticks, and N + 1 threads waking
        // 10 times a second each cost measurable idle CPU under emulation.
        let policy = SchedulerPolicy(mode: options.mode, emptyPollsBeforeSleep: options.idlePolls,
                                     sleepTimeout: .milliseconds(500), batchSize: options.batch)
        let statsInterval = options.statsInterval, mac = mac, ip = ip
        control = try QueueThreads.run(device: &device, queues: &queues, waker: waker, cores: cores,
                                       interruptTimeout: .milliseconds(250),
                                       onLinkChange: { device in Console.line("echo-server: link \(device.link)") },
                                       logger: ExampleLogging.logger("echo-server", device: options.pciAddress),
                                       metrics: metrics?.device(options.pciAddress, driver: device.driverName),
                                       tickInterval: .seconds(max(1, options.statsInterval)),
                                       onTick: { [metrics] _ in metrics?.write() }) { queue, context in
            var handler = QueueEchoHandler(responder: EchoResponder(mac: mac, ip: ip), statsInterval: statsInterval)
            var loop = PacketLoop(policy: policy, tickInterval: .seconds(max(1, statsInterval)))
            try loop.run(queue: &queue, handler: &handler, waker: context.waker) { context.shouldStop }
            Console.line("echo-server: queue \(queue.index): \(handler.statsLine(queue)) \(loop.statistics.summary)")
        }
    }
}

/// The echo handler for one queue: replies go out of the queue the request came in on.
struct QueueEchoHandler: QueueHandler {
    var responder: EchoResponder
    let statsInterval: Int
    var txDropped: UInt64 = 0

    mutating func handle<Q: QueuePair & ~Copyable>(_ batch: inout PacketBatch, queue: inout Q) {
        responder.replyInPlace(&batch)
        if batch.isEmpty { return }
        let toSend = batch.count
        txDropped &+= UInt64(toSend - queue.transmit(from: &batch))
    }

    mutating func tick<Q: QueuePair & ~Copyable>(queue: inout Q) {
        if statsInterval > 0 { Console.line("echo-server: queue \(queue.index): \(statsLine(queue))") }
    }

    func statsLine<Q: QueuePair & ~Copyable>(_ queue: borrowing Q) -> String {
        let s = queue.statistics
        return "rx=\(s.rxPackets) tx=\(s.txPackets) tx-dropped=\(txDropped) pool-free=\(queue.bufferPoolAvailable) \(responder.counters.summary)"
    }
}
