import MetricsTestKit
import Scheduler
import Testing
import UIO

/// `DeviceMetrics`: running totals become counters that grow by the difference, per device
/// and per queue, and `PacketLoop` feeds it at its tick.
@Suite struct DeviceMetricsTests {
    let device = [("device", "0000:00:04.0"), ("driver", "virtio-net")]
    var queue0: [(String, String)] { device + [("queue", "0")] }

    @Test func countersGrowByWhatTheTotalsGrewBy() throws {
        let test = TestMetrics()
        var metrics = DeviceMetrics(address: "0000:00:04.0", driver: "virtio-net", factory: test)
        var s = DeviceStatistics()
        s.rxPackets = 10; s.rxBytes = 600; s.txPackets = 7; s.txBytes = 420; s.rxDropped = 2; s.rxOversize = 1; s.txDropped = 3
        metrics.record(queue: "0", statistics: s, poolFree: 500)
        s.rxPackets = 25; s.rxOversize = 4
        metrics.record(queue: "0", statistics: s, poolFree: 490)
        #expect(try test.expectCounter(DeviceMetrics.Name.rxPackets, queue0).totalValue == 25)
        #expect(try test.expectCounter(DeviceMetrics.Name.rxBytes, queue0).totalValue == 600)
        #expect(try test.expectCounter(DeviceMetrics.Name.txPackets, queue0).totalValue == 7)
        #expect(try test.expectCounter(DeviceMetrics.Name.dropped, queue0 + [("reason", "rx_oversize")]).totalValue == 4)
        #expect(try test.expectCounter(DeviceMetrics.Name.dropped, queue0 + [("reason", "rx_no_descriptor")]).totalValue == 2)
        #expect(try test.expectCounter(DeviceMetrics.Name.dropped, queue0 + [("reason", "tx_ring_full")]).totalValue == 3)
        #expect(try test.expectGauge(DeviceMetrics.Name.poolFree, queue0).lastValue == 490)
    }

    @Test func linkAndLoopSeries() throws {
        let test = TestMetrics()
        var metrics = DeviceMetrics(address: "0000:00:04.0", driver: "virtio-net", factory: test)
        metrics.record(link: LinkStatus(isUp: true, speedMbps: 1000))
        #expect(try test.expectGauge(DeviceMetrics.Name.linkUp, device).lastValue == 1)
        #expect(try test.expectGauge(DeviceMetrics.Name.linkSpeed, device).lastValue == 1000)
        metrics.record(link: LinkStatus(isUp: false, speedMbps: 1000))
        #expect(try test.expectGauge(DeviceMetrics.Name.linkUp, device).lastValue == 0)
        #expect(try test.expectGauge(DeviceMetrics.Name.linkSpeed, device).lastValue == 0)
        metrics.record(sleeps: 5, wakeups: 3, missedInterrupts: 2, linkChanges: 1)
        metrics.record(sleeps: 9, wakeups: 3, missedInterrupts: 2, linkChanges: 1)
        #expect(try test.expectCounter(DeviceMetrics.Name.sleeps, device).totalValue == 9)
        #expect(try test.expectCounter(DeviceMetrics.Name.wakeups, device).totalValue == 3)
        #expect(try test.expectCounter(DeviceMetrics.Name.missedInterrupts, device).totalValue == 2)
        #expect(try test.expectCounter(DeviceMetrics.Name.linkChanges, device).totalValue == 1)
    }

    /// Every metric has help text (Prometheus' lint wants it), and every counter name ends in _total.
    @Test func everyNameHasHelp() {
        let names = [DeviceMetrics.Name.rxPackets, DeviceMetrics.Name.txPackets, DeviceMetrics.Name.rxBytes, DeviceMetrics.Name.txBytes,
                     DeviceMetrics.Name.dropped, DeviceMetrics.Name.poolFree, DeviceMetrics.Name.sleeps, DeviceMetrics.Name.wakeups,
                     DeviceMetrics.Name.missedInterrupts, DeviceMetrics.Name.linkUp, DeviceMetrics.Name.linkSpeed, DeviceMetrics.Name.linkChanges]
        #expect(Set(names) == Set(DeviceMetrics.Name.help.keys))
    }

    /// The loop records at its ticks and when it stops: the counters match what the device
    /// counted, and the loop's sleeps are there too.
    @Test(arguments: NIC.allCases)
    func thePacketLoopRecordsAtItsTicks(nic: NIC) throws {
        let test = TestMetrics()
        let driver = nic == .ixgbe ? "ixgbe" : "virtio-net"
        let labels = [("device", "0000:00:04.0"), ("driver", driver)]
        // From the loop's first poll (opening the device, ixgbe's link wait, comes before).
        final class Start { var instant: ContinuousClock.Instant? }
        let start = Start()
        let run = try runPacketLoop(on: nic, policy: SchedulerPolicy(mode: .hybrid, emptyPollsBeforeSleep: 5, sleepTimeout: .milliseconds(5)),
                                    tickInterval: .milliseconds(2),
                                    metrics: DeviceMetrics(address: "0000:00:04.0", driver: driver, factory: test), script: { probe, model, mac in
            probe.beforePoll[1] = { start.instant = .now }
            for n in 1...30 { probe.beforePoll[n * 3] = { model.arrive(frame(to: mac, n)) } }
        }, until: { probe in
            probe.handledFrames >= 30 && start.instant.map { ContinuousClock.now - $0 > .milliseconds(30) } ?? false
        })
        #expect(run.probe.handledFrames == 30)
        #expect(try test.expectCounter(DeviceMetrics.Name.rxPackets, labels + [("queue", "0")]).totalValue == 30)
        #expect(try test.expectCounter(DeviceMetrics.Name.rxBytes, labels + [("queue", "0")]).totalValue == 30 * 60)
        #expect(try test.expectCounter(DeviceMetrics.Name.sleeps, labels).totalValue == Int64(run.statistics.sleeps))
        #expect(try test.expectGauge(DeviceMetrics.Name.linkUp, labels).lastValue == 1)
        // Both drivers report their pool (ixgbe too, since it shares igb's device core).
        #expect(try test.expectGauge(DeviceMetrics.Name.poolFree, labels + [("queue", "0")]).lastValue ?? 0 > 0)
        // Recorded at the ticks (every 2 ms over sleeps of 5 ms), not only when the loop stopped.
        let sleeps = try test.expectCounter(DeviceMetrics.Name.sleeps, labels).values
        #expect(sleeps.count >= 2, "\(sleeps) \(run.statistics.summary) \(run.elapsed)")
    }
}
