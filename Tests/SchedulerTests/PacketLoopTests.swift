import Foundation
import Scheduler
import Testing
import UIO
import UIOSimulator

/// `PacketLoop` against the real drivers on the simulated NICs, with a `Probe` recording every
/// call the loop makes and putting frames and link changes on the wire at exact points of
/// that sequence (see `Probe`). The hybrid rule is in `SchedulerPolicy`; the arm/re-check/
/// sleep order in `PacketLoop.sleep`.
@Suite("PacketLoop") struct PacketLoopTests {
    typealias Mode = SchedulerPolicy.Mode
    static let sleepingModes: [Mode] = [.hybrid, .interrupt]

    /// A small threshold keeps the traces short; the rule is the same at 300.
    static func policy(_ mode: Mode, timeout: Duration) -> SchedulerPolicy {
        SchedulerPolicy(mode: mode, emptyPollsBeforeSleep: 5, sleepTimeout: timeout, batchSize: 32)
    }

    static func isWait(_ e: Probe.Event) -> Bool { if case .wait = e { return true } else { return false } }

    // MARK: The empty-poll threshold

    @Test(arguments: NIC.allCases)
    func hybridSleepsOnlyAfterTheThresholdOfEmptyPolls(nic: NIC) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(.hybrid, timeout: .milliseconds(1)),
                                    script: { _, _, _ in }, until: { $0.waits >= 2 })
        let idle = Array(repeating: Probe.Event.poll(received: 0), count: 5)
        let sleep: [Probe.Event] = [.arm, .recheck(pending: false), .wait(woken: false), .disarm]
        // The loop starts disarmed; five empty polls, arm, re-check, sleep, disarm; the sleep
        // times out, and after one more empty poll the loop sleeps again.
        #expect(run.probe.events == [.disarm] + idle + sleep + [.poll(received: 0)] + sleep, "\(run.probe.trace)")
        #expect(run.statistics.polls == 6)
        #expect(run.statistics.emptyPolls == 6)
        #expect(run.statistics.sleeps == 2)
        #expect(run.statistics.wakeups == 0)
        #expect(run.statistics.lateArrivals == 0)
        #expect(run.faults.isEmpty, "\(run.faults)")
    }

    @Test(arguments: NIC.allCases)
    func anyPacketResetsTheEmptyPollCount(nic: NIC) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(.hybrid, timeout: .milliseconds(1)), script: { probe, model, mac in
            probe.beforePoll[4] = { model.arrive(frame(to: mac, 1)) }
            probe.beforePoll[8] = { model.arrive(frame(to: mac, 2)) }
        }, until: { $0.waits >= 1 })
        // Seven empty polls before the arming would mean the count was not reset: the loop
        // must see five *consecutive* empty polls after the last frame.
        #expect(run.probe.pollsBeforeFirstArm == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0], "\(run.probe.trace)")
        #expect(run.probe.handledFrames == 2)
        #expect(run.statistics.packets == 2)
        #expect(run.statistics.sleeps == 1)
        #expect(run.faults.isEmpty, "\(run.faults)")
    }

    @Test(arguments: NIC.allCases)
    func pollModeNeverArmsOrSleeps(nic: NIC) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(.poll, timeout: .milliseconds(1)), script: { probe, model, mac in
            probe.beforePoll[500] = { model.arrive(frame(to: mac)) }
        }, until: { $0.polls >= 1000 })
        #expect(run.probe.polls == 1000)
        #expect(!run.probe.events.contains(.arm), "\(run.probe.events.filter { $0 != .poll(received: 0) })")
        #expect(!run.probe.events.contains(where: Self.isWait))
        #expect(run.statistics.sleeps == 0)
        #expect(run.statistics.packets == 1)
        #expect(run.probe.handledFrames == 1)
    }

    @Test(arguments: NIC.allCases)
    func interruptModeSleepsAfterEveryEmptyPoll(nic: NIC) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(.interrupt, timeout: .seconds(5)), script: { probe, model, mac in
            // Each frame arrives while the loop sleeps, armed: its interrupt is the wake-up.
            probe.beforeWait[1] = { model.arrive(frame(to: mac, 1)) }
            probe.beforeWait[2] = { model.arrive(frame(to: mac, 2)) }
        }, until: { $0.handledFrames >= 2 })
        let wake: [Probe.Event] = [.poll(received: 0), .arm, .recheck(pending: false), .wait(woken: true),
                                   .acknowledge(InterruptCauses(queues: 1)), .disarm, .poll(received: 1), .handled(frames: 1)]
        #expect(run.probe.events == [.disarm] + wake + wake, "\(run.probe.trace)")
        #expect(run.statistics.sleeps == 2)
        #expect(run.statistics.wakeups == 2)
        #expect(run.statistics.missedInterrupts == 0)
        #expect(run.probe.waitTimes.allSatisfy { $0 < .seconds(1) }, "woken by the frame, not the 5 s timeout: \(run.probe.waitTimes)")
    }

    // MARK: Sleeping and waking

    /// The race the re-check after arming exists for: a frame that lands in the ring after the
    /// last empty poll but before the interrupt is armed raises no interrupt (virtio: it was
    /// suppressed; ixgbe: its cause was masked). Without the re-check the loop would sleep with
    /// it in the ring until the timeout, or (ixgbe) take a needless sleep/wake round trip.
    @Test(arguments: NIC.allCases, sleepingModes)
    func aFrameBetweenTheLastEmptyPollAndTheArmingIsHandledAtOnce(nic: NIC, mode: Mode) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(mode, timeout: .seconds(2)), script: { probe, model, mac in
            probe.beforeArm[1] = { model.arrive(frame(to: mac)) }
        }, until: { $0.handledFrames >= 1 })
        let afterArming = Array(run.probe.events.drop { $0 != .arm })
        #expect(afterArming == [.arm, .recheck(pending: true), .disarm, .poll(received: 1), .handled(frames: 1)],
                "the loop must see the frame in the re-check and poll again without sleeping: \(run.probe.trace)")
        #expect(run.statistics.lateArrivals == 1)
        #expect(run.statistics.sleeps == 0)
        #expect(run.elapsed < .seconds(1), "took \(run.elapsed): slept with a frame in the ring")
    }

    @Test(arguments: NIC.allCases, sleepingModes)
    func aFrameDuringTheSleepWakesTheLoop(nic: NIC, mode: Mode) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(mode, timeout: .seconds(5)), script: { probe, model, mac in
            probe.beforeWait[1] = { model.arrive(frame(to: mac)) }
        }, until: { $0.handledFrames >= 1 })
        #expect(run.statistics.sleeps == 1)
        #expect(run.statistics.wakeups == 1)
        #expect(run.statistics.lateArrivals == 0)
        let afterWake = Array(run.probe.events.drop { !Self.isWait($0) })
        #expect(afterWake == [.wait(woken: true), .acknowledge(InterruptCauses(queues: 1)), .disarm, .poll(received: 1), .handled(frames: 1)],
                "\(run.probe.trace)")
        #expect(run.elapsed < .seconds(2), "took \(run.elapsed): the frame's interrupt did not end the 5 s sleep")
    }

    /// The same wake-up with the device running on its own thread and the frame sent from a
    /// third one while the loop is blocked in the wait: the path a real NIC takes.
    @Test(arguments: NIC.allCases, sleepingModes)
    func aFrameFromAnotherThreadWakesABlockedLoop(nic: NIC, mode: Mode) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(mode, timeout: .seconds(5)), script: { probe, model, mac in
            model.startRunningInBackground()
            let late = frame(to: mac)
            probe.beforeWait[1] = {
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { model.inject(frame: late) }
            }
        }, until: { $0.handledFrames >= 1 })
        #expect(run.statistics.sleeps == 1)
        #expect(run.statistics.wakeups == 1)
        #expect(run.probe.handledFrames == 1)
        let waited = try #require(run.probe.waitTimes.first)
        #expect(waited >= .milliseconds(40) && waited < .seconds(2), "blocked \(waited): expected about 50 ms")
    }

    @Test(arguments: NIC.allCases, sleepingModes)
    func aSleepWithNothingArrivingEndsAtTheTimeout(nic: NIC, mode: Mode) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(mode, timeout: .milliseconds(50)),
                                    script: { _, _, _ in }, until: { $0.waits >= 2 })
        #expect(run.statistics.sleeps == 2)
        #expect(run.statistics.wakeups == 0)
        #expect(run.probe.events.filter(Self.isWait) == [.wait(woken: false), .wait(woken: false)])
        // Not earlier than the timeout (a spurious return would spin), not much later either.
        #expect(run.probe.waitTimes.allSatisfy { $0 >= .milliseconds(45) && $0 < .seconds(1) }, "\(run.probe.waitTimes)")
        #expect(run.statistics.sleepingTime >= .milliseconds(90))
        // After a timeout the loop polls once (a frame may have raced the timeout) and sleeps
        // again: in hybrid mode too, it does not count to the threshold anew.
        let polls = run.probe.events.split(whereSeparator: Self.isWait)[1].filter { $0 == .poll(received: 0) }.count
        #expect(polls == 1, "\(run.probe.trace)")
    }

    /// The threshold is for a link that was busy: after a timed-out sleep one empty poll is
    /// enough, but after an interrupt (a frame) the loop polls the full threshold again.
    @Test(arguments: NIC.allCases)
    func hybridCountsToTheThresholdAfterAFrameButNotAfterATimeout(nic: NIC) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(.hybrid, timeout: .milliseconds(1)), script: { probe, model, mac in
            probe.beforeWait[2] = { model.arrive(frame(to: mac)) }
        }, until: { $0.waits >= 3 })
        let idle = Array(repeating: Probe.Event.poll(received: 0), count: 5)
        let expected: [Probe.Event] = [.disarm] + idle + [.arm, .recheck(pending: false), .wait(woken: false), .disarm]
            + [.poll(received: 0), .arm, .recheck(pending: false), .wait(woken: true), .acknowledge(InterruptCauses(queues: 1)), .disarm]
            + [.poll(received: 1), .handled(frames: 1)] + idle + [.arm, .recheck(pending: false), .wait(woken: false), .disarm]
        #expect(run.probe.events == expected, "\(run.probe.trace)")
    }

    // MARK: Link changes

    /// A loop that never sleeps takes no interrupt; it looks for a pending one once a tick.
    @Test(arguments: NIC.allCases)
    func pollModeSeesALinkChangeAtTheNextTick(nic: NIC) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(.poll, timeout: .seconds(5)), tickInterval: .milliseconds(5), script: { probe, model, _ in
            probe.beforePoll[10] = { model.setLink(up: false) }
        }, until: { $0.linkChanges.count >= 1 })
        #expect(run.probe.linkChanges == [false], "\(run.probe.events.filter { $0 != .poll(received: 0) })")
        #expect(run.statistics.linkChanges == 1)
        #expect(run.statistics.sleeps == 0)
        #expect(!run.probe.events.contains(.arm))
        #expect(run.elapsed < .seconds(2), "took \(run.elapsed)")
    }

    /// Hybrid mode under steady traffic never reaches the threshold, so never sleeps: the
    /// link change must still reach the handler (at the next tick).
    @Test(arguments: NIC.allCases)
    func hybridUnderSteadyTrafficSeesALinkChange(nic: NIC) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(.hybrid, timeout: .seconds(5)), tickInterval: .milliseconds(1), script: { probe, model, mac in
            for n in 1...3000 { probe.beforePoll[n] = { model.arrive(frame(to: mac, n)) } }
            probe.beforePoll[100] = { model.arrive(frame(to: mac, 100)); model.setLink(up: false) }
        }, until: { $0.linkChanges.count >= 1 || $0.polls >= 3000 })
        #expect(run.probe.linkChanges == [false], "\(run.probe.events.filter { $0 != .poll(received: 1) && $0 != .handled(frames: 1) })")
        // (ixgbe: with the cable pulled, the frames after it are lost: a poll may come back
        // empty, but never the five in a row that would put the loop to sleep.)
        #expect(run.statistics.sleeps == 0)
    }

    @Test(arguments: NIC.allCases, sleepingModes)
    func aLinkChangeWakesTheLoopAndReachesTheHandler(nic: NIC, mode: Mode) throws {
        let run = try runPacketLoop(on: nic, policy: Self.policy(mode, timeout: .seconds(5)), script: { probe, model, _ in
            probe.beforeWait[1] = { model.setLink(up: false) }
            probe.beforeWait[2] = { model.setLink(up: true) }
        }, until: { $0.linkChanges.count >= 2 })
        // linkChanged(isUp:) records `device.link` as the handler saw it: already updated.
        #expect(run.probe.linkChanges == [false, true], "\(run.probe.trace)")
        #expect(run.statistics.linkChanges == 2)
        #expect(run.statistics.wakeups == 2)
        let acks = run.probe.events.compactMap { if case .acknowledge(let c) = $0 { return c.linkChanged } else { return nil } }
        #expect(acks == [true, true])
        #expect(run.elapsed < .seconds(4), "took \(run.elapsed): the link interrupt did not end the 5 s sleeps")
        #expect(run.faults.isEmpty, "\(run.faults)")
    }
}

extension SimulatedNICModel {
    /// The model steps itself on a background thread, stopped when the model is released.
    func startRunningInBackground() {
        if let virtio = self as? VirtioNetModel { virtio.startRunning() }
        if let ixgbe = self as? IxgbeModel { ixgbe.startRunning() }
    }
}
