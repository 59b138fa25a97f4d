import Testing
import UIO
@testable import UIOSimulator

@Suite("ISR and INTx")
struct InterruptTests {
    typealias L = VirtioNetModelLayout

    /// Posts an RX buffer, injects a frame and steps: a used-buffer interrupt.
    func receiveOne(_ d: MiniDriver) {
        d.queues[0].post([(d.buffer(d.queues[0].nextDescriptor).physical, 2048, true)])
        d.model.inject(frame: MiniDriver.frame(60))
        d.model.step()
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func isrReadClearsAndDeasserts(layout: VirtioNetModel.Layout) throws {
        let d = try MiniDriver(layout: layout)
        try d.start()
        receiveOne(d)
        #expect(d.model.interruptLine.isAsserted)
        #expect(try d.function.readConfig(UInt16.self, at: PCIConfig.status) & (1 << 3) != 0)
        #expect(d.readISR() == L.ISR.queue)
        #expect(d.readISR() == 0)
        #expect(!d.model.interruptLine.isAsserted)
    }

    @Test func noInterruptFlagSuppresses() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start()
        d.queues[0].setNoInterrupt(true)
        receiveOne(d)
        #expect(d.queues[0].takeUsed().count == 1)
        #expect(d.model.pendingISR == 0)
        #expect(d.model.interruptLine.count == 0)
        #expect(d.model.counters.suppressedInterrupts == 1)
        d.queues[0].setNoInterrupt(false)
        receiveOne(d)
        #expect(d.model.pendingISR == 1)
    }

    @Test func intxMasksAndRearmUnmasks() throws {
        let d = try MiniDriver(layout: .legacy)
        try d.start()
        receiveOne(d)
        let event = try d.function.waitForInterrupt(timeout: .milliseconds(100))
        #expect(event == InterruptEvent(count: 1, missed: 0))
        let command = try d.function.readConfig(UInt16.self, at: PCIConfig.command)
        #expect(command & PCIConfig.commandInterruptDisable != 0)
        #expect(command & PCIConfig.commandBusMaster != 0)
        #expect(d.readISR() == 1)
        try d.function.rearmInterrupt()
        #expect(try d.function.readConfig(UInt16.self, at: PCIConfig.command) & PCIConfig.commandInterruptDisable == 0)
        #expect(try d.function.waitForInterrupt(timeout: .milliseconds(10)) == nil)
        #expect(d.model.interruptLine.count == 1)
    }

    @Test func levelTriggeredLineFiresAgainOnRearm() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start()
        receiveOne(d)
        #expect(try d.function.waitForInterrupt(timeout: nil)?.count == 1)
        // The driver re-arms without reading the ISR: the line is still asserted.
        try d.function.rearmInterrupt()
        #expect(d.model.interruptLine.isMasked)
        #expect(try d.function.waitForInterrupt(timeout: .milliseconds(100)) == InterruptEvent(count: 2, missed: 0))
    }

    @Test func writingCommandWithoutBit10Unmasks() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start()
        receiveOne(d)
        #expect(d.model.interruptLine.isMasked)
        _ = d.readISR()
        try d.function.writeConfig(PCIConfig.commandBusMaster | PCIConfig.commandMemorySpace, at: PCIConfig.command)
        #expect(!d.model.interruptLine.isMasked)
    }

    @Test func missedInterruptsAreCounted() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start()
        for _ in 0..<3 {
            receiveOne(d)
            _ = d.readISR()
            try d.function.writeConfig(PCIConfig.commandBusMaster | PCIConfig.commandMemorySpace, at: PCIConfig.command)
        }
        #expect(try d.function.waitForInterrupt(timeout: nil) == InterruptEvent(count: 3, missed: 2))
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func linkDownRaisesConfigInterrupt(layout: VirtioNetModel.Layout) throws {
        let d = try MiniDriver(layout: layout)
        try d.start()
        let generation = layout == .modern ? d.registers.read8(L.Common.configGeneration) : 0
        d.model.setLink(up: false)
        #expect(d.netConfigByte(L.NetConfig.status) & 1 == 0)
        #expect(try d.function.waitForInterrupt(timeout: .milliseconds(100))?.count == 1)
        #expect(d.readISR() == 0x03)
        if layout == .modern { #expect(d.registers.read8(L.Common.configGeneration) != generation) }
        d.model.setLink(up: false)  // no change, no interrupt
        #expect(d.model.pendingISR == 0)
        d.model.setLink(up: true)
        #expect(d.netConfigByte(L.NetConfig.status) & 1 == 1)
        #expect(d.model.counters.configInterrupts == 2)
    }

    @Test func waitTimesOut() throws {
        let d = try MiniDriver(layout: .modern)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try d.function.waitForInterrupt(timeout: .milliseconds(20)) == nil)
        #expect(clock.now - start >= .milliseconds(15))
    }

    @Test func backgroundRunnerWakesAWaiter() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start()
        d.queues[0].post([(d.buffer(0).physical, 2048, true)])
        d.model.startRunning()
        defer { d.model.stopRunning() }
        d.model.inject(frame: MiniDriver.frame(60))
        let event = try d.function.waitForInterrupt(timeout: .seconds(5))
        #expect(event?.count == 1)
        #expect(d.queues[0].takeUsed().count == 1)
    }
}
