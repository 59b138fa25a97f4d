import Testing
import Ixgbe
import UIO
@testable import UIOSimulator

/// The real driver against the real 82599 model (`IxgbeModel`): neither side was written
/// against the other, so where they disagree one of them is wrong about the datasheet.
@Suite struct IxgbeSimulationTests {
    // MARK: Bring-up (§4.6.3 to §4.6.8)

    @Test func initCompletesWithoutFaultsLinkUpAndTheMACFromRAL() throws {
        let mac = MACAddress(0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef)
        var nic = try SimulatedIxgbeNIC(mac: mac, configuration: SimulatedIxgbeNIC.configuration(ringSize: 512))
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        #expect(!nic.model.isBroken)
        #expect(nic.device.family == .i82599)
        #expect(nic.device.macAddress == mac)
        #expect(nic.device.link == LinkStatus(isUp: true, speedMbps: 10_000))
        #expect(nic.model.isLinkUp)
        // One global reset; every register the driver touched is one the model knows.
        #expect(nic.model.counters.resets == 1)
        #expect(nic.model.counters.unknownRegisterReads == 0)
        #expect(nic.model.counters.unknownRegisterWrites == 0)
        // Receive ring handed over (all but one descriptor), transmit ring empty, only the
        // link cause unmasked and nothing pending.
        #expect(nic.model.rxRing(0) == (head: 0, tail: 511))
        #expect(nic.model.txRing(0) == (head: 0, tail: 0))
        #expect(nic.model.enabledCauses == IXGBE.EICR_LSC)
        #expect(nic.model.pendingCauses == 0)
        #expect(nic.model.configSpace.busMasterEnabled)
        nic.device.shutdown()
    }

    @Test func initWaitsForALinkThatTakesTime() throws {
        // The system clock: LINKS reads see the 10 ms auto-negotiation pass while init polls.
        var nic = try SimulatedIxgbeNIC(linkUpDelay: .time(.milliseconds(10)), clock: .system(),
                                        configuration: SimulatedIxgbeNIC.configuration(linkTimeout: .seconds(2)))
        #expect(nic.device.link.isUp)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    /// 82574L (e1000e), I210 (igb), 82598 (the older ixgbe this driver does not support).
    @Test(arguments: [UInt16(0x10D3), 0x1533, 0x10B6])
    func anUnsupportedDeviceIDIsRefusedBeforeTheDeviceIsTouched(deviceID: UInt16) throws {
        let dma = SimulatedDMA()
        let model = IxgbeModel(IxgbeModel.Configuration(deviceID: deviceID, linkUpDelay: .immediate, clock: .manual()), dma: dma)
        #expect(throws: UIOError.unsupportedDevice(vendor: 0x8086, device: deviceID)) {
            _ = try SimulatedIxgbeDevice(function: model.makePCIFunction(), allocator: dma,
                                         configuration: SimulatedIxgbeNIC.configuration())
        }
        #expect(model.counters.resets == 0)
        #expect(model.counters.eicrReads == 0)
        #expect(!model.configSpace.busMasterEnabled)
        #expect(model.faults.isEmpty)
    }

    /// The model is an 82599, but with the X540's ID the driver must leave AUTOC (the
    /// 82599's MAC link setup) alone, while the 82599 gets 10G serial and a restart.
    @Test func anX540IDIsAcceptedAndLeavesAUTOCAlone() throws {
        var x540 = try SimulatedIxgbeNIC(deviceID: 0x1528)
        #expect(x540.device.family == .x540)
        #expect(x540.device.link.isUp)
        #expect(x540.model.readRegister(bar: 0, offset: IXGBE.AUTOC, width: 4) == 0)
        #expect(x540.model.faults.isEmpty, "\(x540.model.faults)")
        x540.device.shutdown()

        var i82599 = try SimulatedIxgbeNIC(deviceID: 0x10FB)
        #expect(i82599.model.readRegister(bar: 0, offset: IXGBE.AUTOC, width: 4) & IXGBE.AUTOC_LMS_MASK == IXGBE.AUTOC_LMS_10G_SERIAL)
        i82599.device.shutdown()
    }

    // MARK: Datapath: two NICs back to back

    /// Ring sizes × batch sizes. A 4096-descriptor ring one frame at a time (8,000 wire
    /// round trips) adds nothing the 512 ring does not already show, and is slow.
    static let roundTripCases: [(ringSize: Int, batchSize: Int)] =
        [64, 512].flatMap { ring in [1, 32, 64].map { (ring, $0) } } + [(4096, 32), (4096, 64)]

    /// A sends every frame to B, B sends each back as it is, A receives it: both TX and RX
    /// rings of both drivers wrap at least twice.
    @Test(arguments: roundTripCases)
    func framesRoundTripThroughAWireByteIdentical(ringSize: Int, batchSize: Int) throws {
        let macA = MACAddress(0x00, 0x1b, 0x21, 0x00, 0x00, 0x0a), macB = MACAddress(0x00, 0x1b, 0x21, 0x00, 0x00, 0x0b)
        let configuration = SimulatedIxgbeNIC.configuration(ringSize: ringSize)
        var a = try SimulatedIxgbeNIC(mac: macA, configuration: configuration)
        var b = try SimulatedIxgbeNIC(mac: macB, configuration: configuration)
        let wire = Wire(a.model, b.model)
        let total = 2 * ringSize + 3 * batchSize + 7
        // Varied sizes, 60…1514 bytes; B's address as destination there, A's on the way back
        // (B rewrites the destination, as a forwarder would, so A's filter accepts them).
        let sizes = (0..<total).map { 60 + ($0 * 37) % 1455 }
        let toB = (0..<total).map { ixgbeFrame($0, size: sizes[$0], to: macB) }
        let toA = (0..<total).map { ixgbeFrame($0, size: sizes[$0], to: macA) }

        var outA = PacketBatch(capacity: batchSize)
        var atB = PacketBatch(capacity: batchSize)
        var backAtA: [[UInt8]] = []
        var next = 0
        var idle = 0
        while backAtA.count < total && idle < 10 {
            // A: the next batch, when the last one has gone.
            if outA.isEmpty && next < total {
                let n = min(batchSize, total - next)
                a.append(toB[next..<next + n], to: &outA)
                next += n
            }
            let sentA = a.device.transmit(queue: 0, from: &outA)
            wire.step()
            // B: what arrived goes back with A's address.
            var forwarded = b.device.transmit(queue: 0, from: &atB)
            let received = b.device.receive(queue: 0, into: &atB)
            for i in 0..<atB.count { atB[i].data.copyMemory(from: macA.array, byteCount: 6) }
            forwarded += b.device.transmit(queue: 0, from: &atB)
            wire.step()
            var batch = PacketBatch(capacity: batchSize)
            var receivedA = 0
            while true {
                let n = a.device.receive(queue: 0, into: &batch)
                if n == 0 { break }
                receivedA += n
                for i in 0..<n { backAtA.append(batch[i].array) }
                batch.removeAll()
            }
            idle = sentA + received + forwarded + receivedA == 0 ? idle + 1 : 0
        }
        #expect(backAtA.count == total)
        #expect(backAtA == toA, "frames came back changed or out of order")
        let captures = wire.captures
        #expect(captures.filter { $0.direction == .aToB }.map(\.frame) == toB)
        #expect(captures.filter { $0.direction == .bToA }.map(\.frame) == toA)
        for nic in [a.model, b.model] {
            #expect(nic.counters.rxMissed == 0 && nic.counters.rxDropped == 0)
            #expect(nic.faults.isEmpty, "\(nic.faults)")
        }
        // The rings wrapped: every frame used a descriptor, more than twice round.
        #expect(a.model.counters.txFrames == UInt64(total) && b.model.counters.rxFrames == UInt64(total))
        // Nothing leaked: after a last clean, A's pool holds all but its RX ring and the
        // (fewer than a clean batch of) TX buffers not yet cleaned.
        _ = a.device.transmit(queue: 0, from: &outA)
        let pool = a.device.mempool(queue: 0)
        #expect(pool.available >= pool.capacity - ringSize - 32)
        outA.removeAll()
        atB.removeAll()
        a.device.shutdown()
        b.device.shutdown()
    }

    /// Short frames leave padded to 60 bytes (HLREG0.TXPADEN), as the driver asks.
    @Test func shortFramesArePaddedOnTheWire() throws {
        var nic = try SimulatedIxgbeNIC()
        var batch = PacketBatch(capacity: 4)
        let short = ixgbeFrame(1, size: 42)
        nic.append([short], to: &batch)
        #expect(nic.device.transmit(queue: 0, from: &batch) == 1)
        nic.model.step()
        #expect(nic.model.takeTransmitted() == [short + [UInt8](repeating: 0, count: 18)])
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    // MARK: Interrupts (§7.3)

    @Test func anInterruptArrivesForTheRightQueueAndEITRThrottlesIt() throws {
        // EITR 100 µs; the model's clock is manual, so nothing moves until the test says so.
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(rxQueues: 2, throttleMicroseconds: 100))
        nic.device.enableInterrupt(queue: 1)
        #expect(nic.model.enabledCauses == IXGBE.EICR_LSC | 0b10)

        // A frame for queue 0, whose cause is masked: no interrupt.
        nic.model.inject(frame: ixgbeFrame(0), queue: 0)
        nic.model.step()
        #expect(try nic.device.waitForInterrupt(timeout: .milliseconds(20)) == nil)
        #expect(nic.receiveAll(queue: 0) == [ixgbeFrame(0)])
        _ = try nic.device.acknowledgeInterrupt()  // clears queue 0's cause

        // A frame for queue 1: an interrupt whose cause is queue 1 alone.
        nic.model.inject(frame: ixgbeFrame(1), queue: 1)
        nic.model.step()
        _ = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        let pending = (nic.device.hasPendingReceive(queue: 0), nic.device.hasPendingReceive(queue: 1))
        #expect(pending == (false, true))
        #expect(try nic.device.acknowledgeInterrupt() == InterruptCauses(queues: 0b10, linkChanged: false))
        #expect(nic.receiveAll(queue: 1) == [ixgbeFrame(1)])

        // Two more frames within the 100 µs: the queue cause is held, no interrupt...
        nic.clock.advance(by: .microseconds(40))
        nic.model.inject(frame: ixgbeFrame(2), queue: 1)
        nic.model.step()
        nic.clock.advance(by: .microseconds(40))
        nic.model.inject(frame: ixgbeFrame(3), queue: 1)
        nic.model.step()
        #expect(try nic.device.waitForInterrupt(timeout: .milliseconds(20)) == nil)
        #expect(nic.model.pendingCauses == 0)
        #expect(nic.model.counters.throttledInterrupts == 1)
        // ...until the clock passes the interval: then exactly one.
        nic.clock.advance(by: .microseconds(20))
        nic.model.step()
        let event = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        #expect(event.missed == 0)
        #expect(try nic.device.acknowledgeInterrupt() == InterruptCauses(queues: 0b10, linkChanged: false))
        #expect(nic.receiveAll(queue: 1) == [ixgbeFrame(2), ixgbeFrame(3)])
        #expect(try nic.device.waitForInterrupt(timeout: .milliseconds(20)) == nil)

        // Masked again: frames raise nothing.
        nic.device.disableInterrupt(queue: 1)
        nic.clock.advance(by: .milliseconds(1))
        nic.model.inject(frame: ixgbeFrame(4), queue: 1)
        nic.model.step()
        #expect(try nic.device.waitForInterrupt(timeout: .milliseconds(20)) == nil)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    // MARK: Link

    @Test func linkDownAndUpAreLinkStatusChanges() throws {
        var nic = try SimulatedIxgbeNIC()
        #expect(nic.device.link.isUp)
        nic.model.setLink(up: false)
        _ = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        #expect(try nic.device.acknowledgeInterrupt() == InterruptCauses(queues: 0, linkChanged: true))
        #expect(nic.device.link == LinkStatus(isUp: false, speedMbps: 0))
        // Frames that arrive with the link down never reach the ring.
        nic.model.inject(frame: ixgbeFrame(0))
        nic.model.step()
        #expect(nic.receiveAll().isEmpty)

        nic.model.setLink(up: true)
        _ = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        #expect(try nic.device.acknowledgeInterrupt().linkChanged)
        #expect(nic.device.link == LinkStatus(isUp: true, speedMbps: 10_000))
        nic.model.inject(frame: ixgbeFrame(1))
        nic.model.step()
        #expect(nic.receiveAll() == [ixgbeFrame(1)])
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    @Test func aLinkThatComesUpAfterInitIsReportedByAnInterrupt() throws {
        // Auto-negotiation takes three device steps; init does not wait for it.
        var nic = try SimulatedIxgbeNIC(linkUpDelay: .steps(3),
                                        configuration: SimulatedIxgbeNIC.configuration(linkTimeout: .zero))
        #expect(!nic.device.link.isUp)
        for _ in 0..<3 { nic.model.step() }
        _ = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        #expect(try nic.device.acknowledgeInterrupt().linkChanged)
        #expect(nic.device.link.isUp)
        nic.device.shutdown()
    }

    // MARK: Statistics (§8.2.3.23)

    /// Byte counts are frame bytes without the FCS, as every swift-uio driver reports them:
    /// GOTC counts through the CRC (4 bytes a frame more) and the driver takes those off;
    /// the receive octet counters already leave out the CRC the device strips. A short frame
    /// counts as sent padded.
    @Test func statisticsAreExact() throws {
        let macA = MACAddress(0x00, 0x1b, 0x21, 0x00, 0x00, 0x0a), macB = MACAddress(0x00, 0x1b, 0x21, 0x00, 0x00, 0x0b)
        var a = try SimulatedIxgbeNIC(mac: macA)
        var b = try SimulatedIxgbeNIC(mac: macB)
        let wire = Wire(a.model, b.model)
        let sizes = (0..<100).map { $0 % 10 == 0 ? 42 : 60 + ($0 * 97) % 1455 }
        let frames = sizes.enumerated().map { ixgbeFrame($0.offset, size: $0.element, to: macB) }
        let wireBytes = UInt64(sizes.reduce(0) { $0 + max($1, 60) })
        var batch = PacketBatch(capacity: 20)
        var received: [[UInt8]] = []
        for round in 0..<5 {
            a.append(frames[round * 20..<round * 20 + 20], to: &batch)
            #expect(a.device.transmit(queue: 0, from: &batch) == 20)
            wire.step()
            received += b.receiveAll()
        }
        #expect(received.count == 100)

        let sa = a.device.statistics(), sb = b.device.statistics()
        #expect(sa.txPackets == 100 && sb.rxPackets == 100)
        #expect(sa.txBytes == wireBytes && sb.rxBytes == wireBytes)
        #expect(sa.rxPackets == 0 && sa.rxBytes == 0 && sb.txPackets == 0 && sb.txBytes == 0)
        #expect(sa.rxDropped == 0 && sb.rxDropped == 0)
        // The model's own totals, which count frames without FCS too.
        #expect(sa.txBytes == a.model.counters.txBytes && sb.rxBytes == b.model.counters.rxBytes)
        // Totals: a second read adds nothing, the counters having been cleared by the first.
        #expect(a.device.statistics() == sa)
        #expect(b.device.statistics() == sb)

        // Both halves of the 36-bit octet counters: 5 GiB more, as if long traffic had passed.
        a.model.withState { $0.stats.gotc += 5 << 30 }
        b.model.withState { $0.stats.qbrc[0] += 5 << 30 }
        #expect(a.device.statistics().txBytes == wireBytes + 5 << 30)
        #expect(b.device.statistics().rxBytes == wireBytes + 5 << 30)
        #expect(a.model.faults.isEmpty && b.model.faults.isEmpty)
        a.device.shutdown()
        b.device.shutdown()
    }

    // MARK: Overflow

    /// The driver sets SRRCTL.DROP_EN, so a full ring drops frames in the queue (QPRDC), not
    /// as missed packets (MPC): rxDropped must count them, rxPackets must not.
    @Test(arguments: [64, 512])
    func rxOverflowIsCountedAsDroppedNotReceived(ringSize: Int) throws {
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(ringSize: ringSize))
        // The device owns ringSize - 1 descriptors (RDT = size - 1): the rest are dropped.
        let injected = ringSize + 50
        for i in 0..<injected { nic.model.inject(frame: ixgbeFrame(i)) }
        nic.model.step()
        let dropped = nic.model.counters.rxQueueDropped
        #expect(dropped == UInt64(injected - (ringSize - 1)))
        #expect(nic.model.counters.rxMissed == 0)
        var s = nic.device.statistics()
        #expect(s.rxDropped == dropped)
        #expect(s.rxPackets == UInt64(ringSize - 1))
        #expect(s.rxBytes == UInt64(60 * (ringSize - 1)))
        let frames = nic.receiveAll()
        #expect(frames == (0..<ringSize - 1).map { ixgbeFrame($0) })
        // The ring is whole again afterwards.
        for i in 0..<10 { nic.model.inject(frame: ixgbeFrame(1000 + i)) }
        nic.model.step()
        #expect(nic.receiveAll().count == 10)
        s = nic.device.statistics()
        #expect(s.rxDropped == dropped)
        #expect(s.rxPackets == UInt64(ringSize - 1 + 10))
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    // MARK: What Linux does at bring-up and shutdown (issue 13)

    /// Linux `ixgbe_enable_rx_dma_82599`: receive goes on with the security RX path stopped
    /// (SECRXCTRL.RX_DIS, SECRXSTAT.SECRX_RDY), then the path is restarted.
    @Test func receiveIsEnabledThroughTheSecurityPathErrataSequence() throws {
        var nic = try SimulatedIxgbeNIC()
        #expect(nic.model.faults.filter { $0.description.contains("SECRX") }.isEmpty, "\(nic.model.faults)")
        #expect(nic.model.readRegister(bar: 0, offset: IxgbeModelLayout.SECRXCTRL, width: 4) & IxgbeModelLayout.SECRXCTRL_RX_DIS == 0,
                "the security RX path runs again afterwards")
        nic.model.inject(frame: ixgbeFrame(0))
        nic.model.step()
        #expect(nic.receiveAll() == [ixgbeFrame(0)])
        nic.device.shutdown()
    }

    /// §8.2.3.8.8 (and Linux `ixgbe_setup_rdrxctl`): RSCACKC and FCOE_WRFIX set,
    /// RSCFRSTSIZE cleared from its reset value 0x8.
    @Test func rdrxctlGetsTheBitsTheDatasheetAsksFor() throws {
        var nic = try SimulatedIxgbeNIC()
        let rdrxctl = nic.model.readRegister(bar: 0, offset: IXGBE.RDRXCTL, width: 4)
        #expect(rdrxctl & IxgbeModelLayout.RDRXCTL_RSCACKC != 0)
        #expect(rdrxctl & IxgbeModelLayout.RDRXCTL_FCOE_WRFIX != 0)
        #expect(rdrxctl & IxgbeModelLayout.RDRXCTL_RSCFRSTSIZE == 0)
        #expect(rdrxctl & IXGBE.RDRXCTL_CRCSTRIP != 0)
        #expect(nic.model.faults.filter { $0.description.contains("RDRXCTL") }.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    /// A device a previous owner left running, Bus Master on and queues enabled (a process
    /// killed under igb_uio or vfio, which do not clear Bus Master): init stops receive and
    /// the queues, disables master access and waits for STATUS.GIO to clear before its reset.
    @Test func initQuiescesADeviceLeftRunningBeforeTheReset() throws {
        let dma = SimulatedDMA()
        let model = IxgbeModel(IxgbeModel.Configuration(linkUpDelay: .immediate, clock: .manual()), dma: dma)
        try model.configSpace.write(UInt16(PCIConfig.commandBusMaster), at: PCIConfig.command)
        model.withState { s in
            s.plain[IxgbeModelLayout.RXCTRL] = IxgbeModelLayout.RXCTRL_RXEN
            for q in [0, 70] {
                s.rx[q].rxdctl = IxgbeModelLayout.RXDCTL_ENABLE
                s.rx[q].enabled = true
            }
            s.tx[0].txdctl = IxgbeModelLayout.TXDCTL_ENABLE
            s.tx[0].enabled = true
        }
        var device = try SimulatedIxgbeDevice(function: model.makePCIFunction(), allocator: dma,
                                              configuration: SimulatedIxgbeNIC.configuration())
        #expect(model.faults.isEmpty, "\(model.faults)")
        #expect(model.counters.resets == 1)
        device.shutdown()
    }

    /// Shutdown too: queues off, master access off and drained, then the reset.
    @Test func shutdownDisablesMasterAccessBeforeTheReset() throws {
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(rxQueues: 2, txQueues: 2))
        nic.device.shutdown()
        #expect(nic.model.faults.filter { $0.description.contains("GIO") }.isEmpty, "\(nic.model.faults)")
        #expect(nic.model.counters.resets == 2)
    }

    /// Backplane (KX4, KR), CX4 and XAUI boards keep the link mode their EEPROM loaded: forcing
    /// 10G serial with the XAUI PMA, as ixy does for every 82599, leaves them without a link.
    @Test(arguments: [UInt16(0x10F7), 0x1514, 0x10F8, 0x1517, 0x10F9, 0x10FC])
    func nonSFPPartsKeepTheirEEPROMLinkMode(deviceID: UInt16) throws {
        var nic = try SimulatedIxgbeNIC(deviceID: deviceID)
        #expect(nic.model.readRegister(bar: 0, offset: IXGBE.AUTOC, width: 4) == IxgbeModelLayout.eepromAUTOC(deviceID: deviceID))
        #expect(nic.device.link == LinkStatus(isUp: true, speedMbps: 10_000))
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    /// An SFP+ part gets 10G serial (SFI) and keeps every other AUTOC bit its EEPROM set.
    @Test func anSFPPartGetsSerialModeAndKeepsTheOtherBits() throws {
        let dma = SimulatedDMA()
        let eeprom = IxgbeModelLayout.AUTOC_LMS_1G_AN | IxgbeModelLayout.AUTOC_10G_KX4 | IxgbeModelLayout.AUTOC_KR_SUPP
        let model = IxgbeModel(IxgbeModel.Configuration(deviceID: 0x10FB, linkUpDelay: .immediate, clock: .manual(),
                                                        eepromAUTOC: eeprom), dma: dma)
        var device = try SimulatedIxgbeDevice(function: model.makePCIFunction(), allocator: dma,
                                              configuration: SimulatedIxgbeNIC.configuration())
        let autoc = model.readRegister(bar: 0, offset: IXGBE.AUTOC, width: 4)
        #expect(autoc == eeprom & ~IXGBE.AUTOC_LMS_MASK | IXGBE.AUTOC_LMS_10G_SERIAL)
        let link = device.link
        #expect(link == LinkStatus(isUp: true, speedMbps: 10_000))
        device.shutdown()
    }

    /// X540-T1 (0x1560), the single-port X540, as Linux's `ixgbe_pci_tbl` lists it.
    @Test func theX540T1IsAccepted() throws {
        var nic = try SimulatedIxgbeNIC(deviceID: 0x1560)
        #expect(nic.device.family == .x540)
        #expect(nic.model.readRegister(bar: 0, offset: IXGBE.AUTOC, width: 4) == 0)
        #expect(nic.device.link.isUp)
        nic.device.shutdown()
    }

    /// Frames that arrive while the application polls (causes masked) still set EICR. The
    /// next sleep unmasks: it must not be woken by those stale causes, only by new frames.
    @Test func theFirstSleepAfterABusyPeriodDoesNotWakeAtOnce() throws {
        var nic = try SimulatedIxgbeNIC()
        for i in 0..<5 { nic.model.inject(frame: ixgbeFrame(i)) }
        nic.model.step()
        #expect(nic.receiveAll().count == 5)
        let pending = nic.device.hasPendingReceive(queue: 0)
        #expect(!pending)
        nic.device.enableInterrupt(queue: 0)
        #expect(try nic.device.waitForInterrupt(timeout: .milliseconds(20)) == nil,
                "woken by a cause left from the busy period (EICR 0x\(String(nic.model.pendingCauses, radix: 16)))")
        // A new frame does wake it.
        nic.clock.advance(by: .milliseconds(1))
        nic.model.inject(frame: ixgbeFrame(9))
        nic.model.step()
        _ = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        #expect(try nic.device.acknowledgeInterrupt().queues == 1)
        #expect(nic.receiveAll() == [ixgbeFrame(9)])
        nic.device.shutdown()
    }

    // MARK: Shutdown

    @Test func shutdownMidTrafficLeavesNoStaleDMA() throws {
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(rxQueues: 2, txQueues: 2))
        var batch = PacketBatch(capacity: 64)
        for i in 0..<40 { nic.model.inject(frame: ixgbeFrame(i), queue: i % 2) }
        nic.model.step()
        _ = nic.device.receive(queue: 0, into: &batch)
        _ = nic.device.receive(queue: 1, into: &batch)
        #expect(batch.count == 40)
        // More frames reach the RX rings and are not received.
        for i in 0..<20 { nic.model.inject(frame: ixgbeFrame(100 + i), queue: i % 2) }
        nic.model.step()
        let deliveredBefore = nic.model.counters.rxFrames
        #expect(deliveredBefore == 60)
        // Queued for sending, tail written, but the device has not run since.
        #expect(nic.device.transmit(queue: 0, from: &batch) == 40)
        #expect(nic.model.txRing(0) == (head: 0, tail: 40))
        // And more on their way in.
        for i in 0..<20 { nic.model.inject(frame: ixgbeFrame(200 + i), queue: i % 2) }

        nic.device.shutdown()
        #expect(nic.model.counters.resets == 2)
        #expect(!nic.model.configSpace.busMasterEnabled, "Bus Master off after shutdown")
        for q in 0..<2 {
            #expect(nic.model.rxRing(q) == (head: 0, tail: 0))
            #expect(nic.model.txRing(q) == (head: 0, tail: 0))
        }
        #expect(nic.model.enabledCauses == 0)
        // Traffic goes on arriving and the device goes on running: no DMA into the freed
        // rings and buffers, nothing sent from the abandoned TX ring.
        for i in 0..<20 { nic.model.inject(frame: ixgbeFrame(300 + i), queue: i % 2) }
        for _ in 0..<3 { nic.model.step() }
        #expect(nic.model.counters.rxFrames == deliveredBefore)
        #expect(nic.model.counters.txFrames == 0)
        #expect(nic.model.takeTransmitted().isEmpty)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        #expect(!nic.model.isBroken)
        // A second shutdown does nothing.
        nic.device.shutdown()
        #expect(nic.model.counters.resets == 2)
    }
}
