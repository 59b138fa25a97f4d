import Logging
import LogTesting
import Scheduler
import Testing
import UIO

/// What `PacketLoop` logs: link changes and missed interrupts, with the driver as metadata,
/// and nothing per packet.
@Suite struct PacketLoopLoggingTests {
    static let policy = SchedulerPolicy(mode: .hybrid, emptyPollsBeforeSleep: 5, sleepTimeout: .seconds(5), batchSize: 32)

    @Test(arguments: NIC.allCases)
    func logsALinkDropAndMissedInterruptsWithTheDriver(nic: NIC) throws {
        let capture = LogCapture()
        let logger = capture.logger.forDevice(address: try PCIAddress(parsing: "0000:00:04.0"), driver: nil)
        let run = try runPacketLoop(on: nic, policy: Self.policy, logger: logger, script: { probe, model, mac in
            // 20 frames over 20 polls, then the link drops while the loop sleeps; the UIO
            // count of that wake-up jumps by 3 (2 missed).
            for n in 1...20 { probe.beforePoll[n] = { model.arrive(frame(to: mac, n)) } }
            probe.beforeWait[1] = {
                probe.missedOnNextInterrupt = 2
                model.setLink(up: false)
            }
        }, until: { $0.linkChanges.count >= 1 })
        #expect(run.probe.handledFrames == 20)
        let records = capture.records
        let link = records.filter { $0.message.hasPrefix("link") }
        #expect(link.count == 1)
        #expect(link.first?.level == .notice)
        #expect(link.first?.metadata["link"] == "down")
        let missed = records.filter { $0.message == "missed interrupts" }
        #expect(missed.count == 1)
        #expect(missed.first?.level == .warning)
        #expect(missed.first?.metadata["missed"] == "2")
        for record in records {
            #expect(record.metadata[DeviceLogKey.address] == "0000:00:04.0")
            #expect(record.metadata[DeviceLogKey.driver] == (nic == .ixgbe ? "ixgbe" : "virtio-net"))
        }
        // Start, link, missed, stop: 20 frames added nothing.
        #expect(records.count == 4, "\(records.map(\.message))")
    }

    @Test func aLoopWithoutALoggerLogsNothingAnywhere() throws {
        let loop = PacketLoop()
        #expect(loop.logger.handler is SwiftLogNoOpLogHandler)
    }
}
