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
        #expect(d.read(L.EEC) & L.EEC_ARD != 0)
        #expect(d.read(L.RDRXCTL) & L.RDRXCTL_DMAIDONE != 0)
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
}
