import ExampleSupport
import UIODevices
import Scheduler
import UIO

/// `--queues N`: one sender per queue pair, each on its own thread with its own mempool and
/// `--rate / N`; each prints its own totals, then the sum.
struct MultiQueueGenerator: MultiQueueDeviceUser {
    let options: PacketGenerator
    let cores: [Int]
    let metrics: MetricsExport?

    mutating func use<D: MultiQueueDevice & ~Copyable>(_ device: inout D) throws {
        Console.line("pktgen: \(device.driverName) \(options.pciAddress) mac \(device.macAddress) link \(device.link), \(options.size)-byte frames, batch \(options.batch), queues \(device.txQueueCount)\(options.rate > 0 ? ", \(options.rate) pps" : ""): ready")
        StopSignal.installHandlers()
        var runner = SenderRunner(template: UDPFrameTemplate(size: options.size, source: device.macAddress,
                                                             destination: MACAddress(parsing: options.dstMac)!,
                                                             sourceIP: parseIPv4(options.srcIp)!, destinationIP: parseIPv4(options.dstIp)!),
                                  batch: options.batch, rate: options.rate, seconds: options.seconds, cores: cores, address: options.pciAddress,
                                  metrics: metrics, series: metrics?.device(options.pciAddress, driver: device.driverName))
        let clock = ContinuousClock()
        let start = clock.now
        try device.withDetachedQueues(&runner)
        let seconds = (clock.now - start) / .seconds(1)
        var sent: UInt64 = 0
        for q in 0..<device.txQueueCount { sent += device.queueStatistics(q).txPackets }
        device.shutdown()
        Console.line("sent \(sent) packets in \(seconds.decimalText(2)) s (\(Int(Double(sent) / max(seconds, 1e-9))) pps)")
    }
}

struct SenderRunner: QueueSetUser {
    let template: UDPFrameTemplate
    let batch: Int, rate: Int
    let seconds: Double
    let cores: [Int]
    let address: String
    let metrics: MetricsExport?
    let series: DeviceMetrics?

    mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws {
        let waker = try QueueWaker(queues: queues.count)
        defer { waker.destroy() }
        let template = template, batchSize = batch, seconds = seconds
        let rate = rate / queues.count
        _ = try QueueThreads.run(device: &device, queues: &queues, waker: waker, cores: cores,
                                 logger: ExampleLogging.logger("pktgen", device: address),
                                 metrics: series, onTick: { [metrics] _ in metrics?.write() }) { queue, context in
            let pool = try Mempool(count: 2048, allocator: HugepageAllocator())
            defer { pool.destroy(using: HugepageAllocator()) }
            var fill = PacketBatch(capacity: pool.capacity)
            while let buffer = pool.allocate() { fill.append(buffer) }
            for i in 0..<fill.count { template.write(into: fill[i]) }
            fill.removeAll()
            var batch = PacketBatch(capacity: batchSize)
            let clock = ContinuousClock()
            let start = clock.now
            let end = start + .milliseconds(Int(seconds * 1000))
            var sequence: UInt32 = 0, sent: UInt64 = 0, calls: UInt64 = 0, ringFull: UInt64 = 0
            var iterations = 0
            while !context.shouldStop && !StopSignal.isRequested {
                iterations &+= 1
                var now = start
                if iterations & 63 == 0 || rate > 0 {
                    now = clock.now
                    if now >= end { break }
                }
                var want = batch.capacity
                if rate > 0 {
                    let allowed = UInt64((now - start) / .seconds(1) * Double(rate))
                    if allowed <= sent { continue }
                    want = min(want, Int(allowed - sent))
                }
                // Only the sequence number changes: the frame and its length stay in the buffer.
                _ = batch.fill(from: pool, upTo: want) { packet in
                    UDPFrameTemplate.setSequence(sequence, in: packet)
                    sequence &+= 1
                }
                sent &+= UInt64(queue.transmit(from: &batch))
                calls &+= 1
                if batch.count > 0 { ringFull &+= 1 }
            }
            batch.removeAll()
            // The driver frees sent buffers on later transmit calls: wait for the ring to drain
            // so the pool can be destroyed whole.
            var spins = 0
            while pool.available < pool.capacity && spins < 1000 {
                _ = queue.transmit(from: &batch)
                usleep(1000)
                spins += 1
            }
            Console.line("pktgen: queue \(queue.index): sent \(sent) packets, TX ring full on \(ringFull) of \(calls) transmit calls")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
