import CoreMetrics
import UIO

/// A device's counters and gauges in swift-metrics, per device and per queue: packets, bytes,
/// drops by reason, free pool buffers, sleeps, wake-ups, missed interrupts and link state.
///
/// The drivers and loops keep plain integer totals on the packet path; this type turns them
/// into metrics off it: `PacketLoop` calls `record` once a tick (a multi-queue application
/// calls it from its control thread), adding to each counter what its total grew by since the
/// last tick. So the metrics cost nothing per packet, whatever backend the application
/// bootstraps (`MetricsSystem.bootstrap`).
///
/// Every series has the labels `device` (PCI address) and `driver`; per-queue ones add `queue`,
/// drops add `reason`. Names and help text: `DeviceMetrics.Name`.
public struct DeviceMetrics {
    /// The metric names, Prometheus-style (counters end in `_total`), and their help text.
    public enum Name {
        public static let rxPackets = "uio_rx_packets_total"
        public static let txPackets = "uio_tx_packets_total"
        public static let rxBytes = "uio_rx_bytes_total"
        public static let txBytes = "uio_tx_bytes_total"
        public static let dropped = "uio_dropped_packets_total"
        public static let poolFree = "uio_pool_free_buffers"
        public static let sleeps = "uio_loop_sleeps_total"
        public static let wakeups = "uio_loop_wakeups_total"
        public static let missedInterrupts = "uio_missed_interrupts_total"
        public static let linkUp = "uio_link_up"
        public static let linkSpeed = "uio_link_speed_mbps"
        public static let linkChanges = "uio_link_changes_total"

        /// One line of help per metric name (Prometheus' `# HELP`).
        public static let help: [String: String] = [
            rxPackets: "Frames received (without oversize frames, which are dropped).",
            txPackets: "Frames handed to the device for sending.",
            rxBytes: "Bytes of the frames received, without the FCS.",
            txBytes: "Bytes of the frames sent, without the FCS.",
            dropped: "Frames dropped, by reason: rx_no_descriptor (no receive buffer posted), rx_oversize (longer than Ethernet allows), tx_ring_full (the driver could not queue it), tx_oversize (a length beyond its buffer: refused, never sent).",
            poolFree: "Free packet buffers in the pool (falling over a long run means a leak).",
            sleeps: "Times the loop armed the interrupt and slept.",
            wakeups: "Sleeps ended by an interrupt (the rest timed out).",
            missedInterrupts: "Interrupts that came and went unseen (the UIO count jumped by more than one).",
            linkUp: "1 while the link is up, 0 while down.",
            linkSpeed: "Link speed in Mbit/s (0 when unknown or down).",
            linkChanges: "Link changes reported by interrupt.",
        ]
    }

    /// A counter fed from a running total: it grows by what the total grew by.
    struct Total {
        let counter: Counter
        var last: UInt64 = 0
        init(_ name: String, _ dimensions: [(String, String)], _ factory: any MetricsFactory) {
            counter = Counter(label: name, dimensions: dimensions, factory: factory)
        }
        mutating func update(_ total: UInt64) {
            // A total never falls; if a driver was reset under us, start again from it.
            if total > last { counter.increment(by: Int64(clamping: total - last)) }
            last = total
        }
    }

    struct QueueSeries {
        var rxPackets, txPackets, rxBytes, txBytes, rxNoDescriptor, rxOversize, txRingFull, txOversize: Total
        /// Made at the first known value: a driver that does not count its pool gets no series
        /// (rather than one stuck at 0).
        var poolFree: Gauge?
    }

    public let address: String
    public let driver: String
    let factory: any MetricsFactory
    let device: [(String, String)]
    var queues: [String: QueueSeries] = [:]
    var sleeps, wakeups, missedInterrupts, linkChanges: Total
    let linkUp, linkSpeed: Gauge

    /// Series for the device at `address` run by `driver` (`NetworkDevice.driverName`), made by
    /// `factory` (by default the one `MetricsSystem.bootstrap` installed).
    public init(address: String, driver: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.address = address
        self.driver = driver
        self.factory = factory
        device = [("device", address), ("driver", driver)]
        sleeps = Total(Name.sleeps, device, factory)
        wakeups = Total(Name.wakeups, device, factory)
        missedInterrupts = Total(Name.missedInterrupts, device, factory)
        linkChanges = Total(Name.linkChanges, device, factory)
        linkUp = Gauge(label: Name.linkUp, dimensions: device, factory: factory)
        linkSpeed = Gauge(label: Name.linkSpeed, dimensions: device, factory: factory)
    }

    /// Records queue `queue`'s totals (a label value: a queue number, or "all" for a device
    /// whose queues are counted together) and its pool's free buffers, when known.
    public mutating func record(queue: String, statistics s: DeviceStatistics, poolFree: Int?) {
        var series = queues[queue] ?? makeQueue(queue)
        series.rxPackets.update(s.rxPackets)
        series.txPackets.update(s.txPackets)
        series.rxBytes.update(s.rxBytes)
        series.txBytes.update(s.txBytes)
        series.rxNoDescriptor.update(s.rxDropped)
        series.rxOversize.update(s.rxOversize)
        series.txRingFull.update(s.txDropped)
        series.txOversize.update(s.txOversize)
        if let poolFree {
            if series.poolFree == nil {
                series.poolFree = Gauge(label: Name.poolFree, dimensions: device + [("queue", queue)], factory: factory)
            }
            series.poolFree!.record(poolFree)
        }
        queues[queue] = series
    }

    /// Records the link state.
    public func record(link: LinkStatus) {
        linkUp.record(link.isUp ? 1 : 0)
        linkSpeed.record(link.isUp ? link.speedMbps : 0)
    }

    /// Records a loop's (or a control thread's) totals of sleeps, wake-ups, missed interrupts
    /// and link changes.
    public mutating func record(sleeps: UInt64, wakeups: UInt64, missedInterrupts: UInt64, linkChanges: UInt64) {
        self.sleeps.update(sleeps)
        self.wakeups.update(wakeups)
        self.missedInterrupts.update(missedInterrupts)
        self.linkChanges.update(linkChanges)
    }

    /// Everything a `PacketLoop` knows at a tick: the device's totals (as queue "0" when it has
    /// one RX queue, else "all"), its pool, its link and the loop's statistics.
    public mutating func record<D: NetworkDevice & ~Copyable>(device: inout D, loop: SchedulerStatistics) {
        record(queue: device.rxQueueCount == 1 ? "0" : "all", statistics: device.statistics(), poolFree: device.bufferPoolAvailable)
        record(link: device.link)
        record(sleeps: loop.sleeps, wakeups: loop.wakeups, missedInterrupts: loop.missedInterrupts, linkChanges: loop.linkChanges)
    }

    /// Everything the control thread of `QueueThreads` knows: each queue's totals and pool
    /// (read from the counter slots, without stopping the queue threads), the link, and the
    /// control thread's interrupt statistics. The queue threads' own sleeps are theirs.
    public mutating func record<D: MultiQueueDevice & ~Copyable>(device: inout D, control: QueueThreads.ControlStatistics) {
        for q in 0..<device.rxQueueCount {
            record(queue: "\(q)", statistics: device.queueStatistics(q), poolFree: nil)
        }
        record(link: device.link)
        missedInterrupts.update(control.missedInterrupts)
        linkChanges.update(control.linkChanges)
    }

    func makeQueue(_ queue: String) -> QueueSeries {
        let labels = device + [("queue", queue)]
        func dropped(_ reason: String) -> Total { Total(Name.dropped, labels + [("reason", reason)], factory) }
        return QueueSeries(
            rxPackets: Total(Name.rxPackets, labels, factory), txPackets: Total(Name.txPackets, labels, factory),
            rxBytes: Total(Name.rxBytes, labels, factory), txBytes: Total(Name.txBytes, labels, factory),
            rxNoDescriptor: dropped("rx_no_descriptor"), rxOversize: dropped("rx_oversize"), txRingFull: dropped("tx_ring_full"),
            txOversize: dropped("tx_oversize"))
    }
}
