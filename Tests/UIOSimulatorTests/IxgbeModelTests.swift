import Testing
import UIO
@testable import UIOSimulator

@Suite("82599 model: identity, reset, link, registers")
struct IxgbeModelTests {
    typealias L = IxgbeModelLayout

    @Test func pciIdentity() throws {
        let d = try IxgbeMiniDriver(IxgbeModel.Configuration(deviceID: 0x154D))
        #expect(d.function.vendorID == 0x8086)
        #expect(d.function.deviceID == 0x154D)
        #expect(try d.function.readConfig(UInt32.self, at: 0x08) >> 8 == 0x020000)
        // BAR0: 64-bit memory (type bits 10b), not prefetchable.
        #expect(try d.function.readConfig(UInt32.self, at: 0x10) & 0xF == 0x4)
        #expect(IxgbeModel(dma: d.dma).configSpace.header.deviceID == 0x10FB)
    }

    @Test func resetSelfClearsAndReportsInitDone() throws {
        let d = try IxgbeMiniDriver(IxgbeModel.Configuration(linkUpDelay: .immediate, clock: .manual(), resetReads: 2))
        d.write(L.RXCTRL, L.RXCTRL_RXEN)
        d.write(L.EIMS, L.EICR_LSC)
        d.write(L.CTRL, L.CTRL_RST)
        #expect(d.read(L.CTRL) & L.CTRL_RST != 0)
        #expect(d.read(L.CTRL) & L.CTRL_RST != 0)
        #expect(d.read(L.CTRL) & L.CTRL_RST_MASK == 0)
        // The EEPROM auto-read and the DMA init take a while (two reads each here).
        #expect(d.read(L.EEC) & L.EEC_ARD == 0)
        #expect(d.read(L.RDRXCTL) & L.RDRXCTL_DMAIDONE == 0)
        d.poll(L.EEC, "ARD") { $0 & L.EEC_ARD != 0 }
        d.poll(L.RDRXCTL, "DMAIDONE") { $0 & L.RDRXCTL_DMAIDONE != 0 }
        // RDRXCTL's reset value has RSCFRSTSIZE 0x8, which software must clear (§8.2.3.8.8).
        #expect(d.read(L.RDRXCTL) & L.RDRXCTL_RSCFRSTSIZE == L.RDRXCTL_RSCFRSTSIZE_DEFAULT)
        #expect(d.read(L.RXCTRL) == 0)
        #expect(d.read(L.EIMS) == 0)
        #expect(d.read(L.SRRCTL(0)) == L.SRRCTL_DEFAULT)
        #expect(d.read(L.DCA_RXCTRL(0)) & (1 << 12) != 0)
        // LNK_RST resets too, and a step clears the bit without any reads.
        d.write(L.CTRL, L.CTRL_LNK_RST)
        d.model.step()
        #expect(d.read(L.CTRL) == 0)
        #expect(d.model.counters.resets == 2)  // power-on is not counted
    }

    @Test func linkComesUpStepsAfterAutonegotiation() throws {
        let d = try IxgbeMiniDriver(IxgbeModel.Configuration(linkUpDelay: .steps(3), clock: .manual()))
        d.reset()
        d.write(L.AUTOC, d.read(L.AUTOC) | L.AUTOC_AN_RESTART)
        #expect(d.read(L.AUTOC) & L.AUTOC_AN_RESTART == 0)
        #expect(d.read(L.LINKS) & L.LINKS_UP == 0)
        d.model.step()
        d.model.step()
        #expect(d.read(L.LINKS) & L.LINKS_UP == 0)
        d.model.step()
        let links = d.read(L.LINKS)
        #expect(links & L.LINKS_UP != 0)
        #expect(links & L.LINKS_SPEED_MASK == L.LINKS_SPEED_10G)
        #expect(d.read(L.EICR) & L.EICR_LSC != 0)
    }

    @Test func linkComesUpAfterTimeWithoutSteps() throws {
        let clock = SimulatedClock.manual()
        let d = try IxgbeMiniDriver(IxgbeModel.Configuration(linkUpDelay: .time(.milliseconds(10)), clock: clock))
        d.reset()
        d.set(L.AUTOC, L.AUTOC_AN_RESTART)
        clock.advance(by: .milliseconds(9))
        #expect(d.read(L.LINKS) & L.LINKS_UP == 0)
        clock.advance(by: .milliseconds(1))
        #expect(d.read(L.LINKS) & L.LINKS_UP != 0)
        #expect(d.model.isLinkUp)
    }

    @Test func setLinkFlapsWithLSC() throws {
        let d = try IxgbeMiniDriver()
        try d.start()
        d.enableInterrupts()
        d.model.setLink(up: false)
        #expect(d.read(L.LINKS) & L.LINKS_UP == 0)
        #expect(d.model.interruptLine.isAsserted)
        #expect(d.read(L.EICR) == L.EICR_LSC)
        #expect(!d.model.interruptLine.isAsserted)
        // Frames on a dead link never arrive.
        d.postRX(count: 1)
        d.model.inject(frame: IxgbeMiniDriver.frame(to: d.mac))
        d.model.step()
        #expect(d.model.counters.rxNoLink == 1)
        #expect(d.read(L.MPC(0)) == 0)
        d.model.setLink(up: true)
        #expect(d.read(L.LINKS) & L.LINKS_UP != 0)
        #expect(d.read(L.EICR) == L.EICR_LSC)
    }

    @Test func unknownRegistersReadZeroAndOddWidthsAreRecorded() throws {
        let d = try IxgbeMiniDriver()
        #expect(d.read(0x1F000) == 0)
        d.write(0x1F000, 0xdead_beef)
        #expect(d.read(0x1F000) == 0)
        #expect(d.model.counters.unknownRegisterReads == 2)
        #expect(d.model.counters.unknownRegisterWrites == 1)
        #expect(d.model.faults.isEmpty)
        // Plain registers read back what was written, via either SRRCTL address.
        d.write(L.SRRCTL_ALIAS(3), 0x0200_0004)
        #expect(d.read(L.SRRCTL(3)) == 0x0200_0004)
        _ = d.registers.read16(L.CTRL)
        #expect(d.model.faults.count == 1)
        #expect(d.model.faults.allSatisfy { !$0.isFatal })
        #expect(!d.model.isBroken)
    }

    @Test func dmaFaultStopsTheDeviceUntilReset() throws {
        let d = try IxgbeMiniDriver()
        try d.start()
        d.write(L.RDBAL(0), 0x1000)
        d.write(L.RDBAH(0), 0)
        d.write(L.RDT(0), 4)
        d.model.inject(frame: IxgbeMiniDriver.frame(to: d.mac))
        d.model.step()
        #expect(d.model.isBroken)
        guard case .dmaOutsideMemory(let address, _, _)? = d.model.faults.first else {
            Issue.record("expected a DMA fault, got \(d.model.faults)")
            return
        }
        #expect(address == 0x1000)
        d.reset()
        #expect(!d.model.isBroken)
    }

    // MARK: Waits the datasheet asks for

    @Test func aDriverThatDoesNotWaitForTheResetToFinishIsCaught() throws {
        let d = try IxgbeMiniDriver()
        d.write(L.CTRL, L.CTRL_RST)
        d.poll(L.CTRL, "RST") { $0 & L.CTRL_RST == 0 }
        // Programming straight away, before EEC.ARD and RDRXCTL.DMAIDONE.
        d.write(L.RXPBSIZE(0), 128 << 10)
        #expect(d.model.faults.count == 1)
        #expect(d.model.faults.first?.description.contains("EEC.ARD") == true)
        // A driver that waits is not.
        d.write(L.CTRL, L.CTRL_RST)
        d.poll(L.CTRL, "RST") { $0 & L.CTRL_RST == 0 }
        d.poll(L.EEC, "ARD") { $0 & L.EEC_ARD != 0 }
        d.poll(L.RDRXCTL, "DMAIDONE") { $0 & L.RDRXCTL_DMAIDONE != 0 }
        d.write(L.RXPBSIZE(0), 128 << 10)
        #expect(d.model.faults.count == 1)
    }

    @Test func queueEnablesTakeEffectLaterAndATailWrittenBeforeIsCaught() throws {
        let d = try IxgbeMiniDriver()
        try d.start()
        // Queue 1 was never set up by start(); enable it and write its tails at once.
        d.set(L.RXDCTL(1), L.RXDCTL_ENABLE)
        d.set(L.TXDCTL(1), L.TXDCTL_ENABLE)
        d.write(L.RDT(1), 1)
        d.write(L.TDT(1), 0)
        #expect(d.model.faults.count == 2, "\(d.model.faults)")
        #expect(d.model.faults.allSatisfy { $0.description.contains("read back") })
        // The enables read back after the delay, and disables take time too.
        #expect(d.read(L.RXDCTL(1)) & L.RXDCTL_ENABLE == 0)
        d.poll(L.RXDCTL(1), "enable") { $0 & L.RXDCTL_ENABLE != 0 }
        d.clear(L.RXDCTL(1), L.RXDCTL_ENABLE)
        #expect(d.read(L.RXDCTL(1)) & L.RXDCTL_ENABLE != 0)
        d.poll(L.RXDCTL(1), "disable") { $0 & L.RXDCTL_ENABLE == 0 }
        // A device step is time passing: a pending change has taken effect after it.
        d.model.step()
        #expect(d.read(L.TXDCTL(1)) & L.TXDCTL_ENABLE != 0)
    }

    // MARK: Master disable before reset (§5.2.5.3.2)

    @Test func aResetWithMasterAccessOnIsAFault() throws {
        let d = try IxgbeMiniDriver()
        try d.start()
        #expect(d.read(L.STATUS) & L.STATUS_GIO != 0)
        d.write(L.CTRL, L.CTRL_RST)
        #expect(d.model.faults.count == 1)
        #expect(d.model.faults.first?.description.contains("GIO_DIS") == true)
    }

    @Test func masterDisableWithAQueueRunningIsAFaultAndGIOClearsAfterADelay() throws {
        let d = try IxgbeMiniDriver()
        try d.start()
        d.write(L.CTRL, L.CTRL_GIO_DIS)
        #expect(d.model.faults.count == 1)
        #expect(d.model.faults.first?.description.contains("RX queue 0 still enabled") == true)
        #expect(d.read(L.STATUS) & L.STATUS_GIO != 0)
        d.poll(L.STATUS, "GIO") { $0 & L.STATUS_GIO == 0 }
        // No DMA once master access is off: a frame is not written to the ring.
        d.postRX(count: 2)
        d.model.inject(frame: IxgbeMiniDriver.frame(to: d.mac))
        d.model.step()
        #expect(d.rxWriteBack(0).status == 0)
        // The full sequence (the mini driver's reset) passes without a fault.
        d.reset()
        #expect(d.model.faults.count == 1)
        #expect(d.read(L.STATUS) & L.STATUS_GIO != 0, "the reset clears GIO_DIS")
    }

    // MARK: Receive enable (82599 errata) and RDRXCTL (§8.2.3.8.8)

    @Test func receiveEnabledWithoutTheSecurityPathStoppedIsAFault() throws {
        let d = try IxgbeMiniDriver()
        try d.start()
        #expect(d.model.faults.isEmpty, "\(d.model.faults)")
        d.clear(L.RXCTRL, L.RXCTRL_RXEN)
        d.set(L.RXCTRL, L.RXCTRL_RXEN)
        #expect(d.model.faults.count == 1)
        #expect(d.model.faults.first?.description.contains("SECRXCTRL.RX_DIS") == true)
        // RX_DIS without waiting for SECRX_RDY is caught as well.
        d.clear(L.RXCTRL, L.RXCTRL_RXEN)
        d.set(L.SECRXCTRL, L.SECRXCTRL_RX_DIS)
        d.set(L.RXCTRL, L.RXCTRL_RXEN)
        #expect(d.model.faults.count == 2)
        #expect(d.model.faults.last?.description.contains("SECRX_RDY") == true)
        // While the security path is stopped, frames wait in the packet buffer: missed here.
        d.postRX(count: 2)
        d.model.inject(frame: IxgbeMiniDriver.frame(to: d.mac))
        d.model.step()
        #expect(d.read(L.MPC(0)) == 1)
        d.clear(L.SECRXCTRL, L.SECRXCTRL_RX_DIS)
        d.model.inject(frame: IxgbeMiniDriver.frame(to: d.mac))
        d.model.step()
        #expect(d.rxWriteBack(0).status & L.RXD_STAT_DD != 0)
    }

    @Test func receiveEnabledWithRDRXCTLAtItsResetValueIsAFault() throws {
        let d = try IxgbeMiniDriver()
        try d.start()
        d.clear(L.RXCTRL, L.RXCTRL_RXEN)
        d.write(L.RDRXCTL, L.RDRXCTL_CRCSTRIP | L.RDRXCTL_RSCFRSTSIZE_DEFAULT)
        d.enableReceive()
        #expect(d.model.faults.count == 1)
        #expect(d.model.faults.first?.description.contains("RSCACKC") == true)
    }

    // MARK: Link modes (AUTOC, §4.6.4)

    /// Each board's EEPROM loads the AUTOC its wiring needs. A KX4 backplane port forced to
    /// 10G serial gets no link; an SFP+ port needs 10G serial.
    @Test(arguments: [(UInt16(0x10F7), true), (0x1517, true), (0x10F9, true), (0x10FB, false)])
    func autocDecidesWhetherTheLinkComesUp(deviceID: UInt16, forcingSerialBreaksIt: Bool) throws {
        let d = try IxgbeMiniDriver(IxgbeModel.Configuration(deviceID: deviceID, linkUpDelay: .immediate, clock: .manual()))
        d.reset()
        #expect(d.read(L.AUTOC) == L.eepromAUTOC(deviceID: deviceID))
        #expect(d.read(L.LINKS) & L.LINKS_UP != 0, "the EEPROM's AUTOC gives a link")
        let serial = d.read(L.AUTOC) & ~L.AUTOC_LMS_MASK & ~L.AUTOC_10G_PMA_PMD_MASK | L.AUTOC_LMS_10G_SERIAL
        d.write(L.AUTOC, serial | L.AUTOC_AN_RESTART)
        d.model.step()
        #expect((d.read(L.LINKS) & L.LINKS_UP == 0) == forcingSerialBreaksIt)
    }
}
