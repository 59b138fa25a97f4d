import Testing
import UIO
@testable import UIOSimulator

@Suite("82599 model: EICR, INTx, EITR")
struct IxgbeInterruptTests {
    typealias L = IxgbeModelLayout
    typealias D = IxgbeMiniDriver

    func receiveOne(_ d: D) {
        d.postRX(count: 1)
        d.model.inject(frame: D.frame(to: d.mac))
        d.model.step()
    }

    @Test func rxCauseFollowsIVARAndEICRReadClears() throws {
        let d = try D()
        try d.start(queues: 2)
        d.enableInterrupts(queues: 2)
        d.postRX(queue: 1, count: 1)
        d.model.inject(frame: D.frame(to: d.mac), queue: 1)
        d.model.step()
        #expect(d.model.interruptLine.isAsserted)
        #expect(try d.function.readConfig(UInt16.self, at: PCIConfig.status) & (1 << 3) != 0)
        #expect(d.read(L.EICR) == 1 << 1)  // RX queue 1 → vector 1
        #expect(d.read(L.EICR) == 0)
        #expect(!d.model.interruptLine.isAsserted)
    }

    @Test func txCauseOnRSWriteBack() throws {
        let d = try D()
        try d.start()
        d.enableInterrupts()
        d.send(D.frame(to: D.broadcast), reportStatus: false)
        d.model.step()
        #expect(d.model.pendingCauses == 0)
        d.send(D.frame(to: D.broadcast))
        d.model.step()
        #expect(d.read(L.EICR) == 1 << 8)  // TX queue 0 → vector 8
    }

    @Test func intxMasksOnDeliveryAndRearmUnmasks() throws {
        let d = try D()
        try d.start()
        d.enableInterrupts()
        receiveOne(d)
        let event = try d.function.waitForInterrupt(timeout: .milliseconds(100))
        #expect(event == InterruptEvent(count: 1, missed: 0))
        #expect(try d.function.readConfig(UInt16.self, at: PCIConfig.command) & PCIConfig.commandInterruptDisable != 0)
        #expect(d.read(L.EICR) == 1)
        try d.function.rearmInterrupt()
        #expect(try d.function.waitForInterrupt(timeout: .milliseconds(10)) == nil)
        #expect(d.model.interruptLine.count == 1)
    }

    @Test func levelTriggeredLineFiresAgainOnRearmIfNotAcknowledged() throws {
        let d = try D()
        try d.start()
        d.enableInterrupts()
        receiveOne(d)
        _ = try d.function.waitForInterrupt(timeout: .milliseconds(100))
        try d.function.rearmInterrupt()  // EICR not read: still asserted
        #expect(try d.function.waitForInterrupt(timeout: .milliseconds(100))?.count == 2)
    }

    @Test func masksGateTheLine() throws {
        let d = try D()
        try d.start()
        d.enableInterrupts()
        d.write(L.EIMC, L.EICR_RTX_QUEUE)
        #expect(d.read(L.EIMS) == L.EICR_LSC)
        receiveOne(d)
        #expect(d.model.pendingCauses == 1)
        #expect(!d.model.interruptLine.isAsserted)
        d.write(L.EIMS, 1)
        #expect(d.model.interruptLine.isAsserted)
        // EICS sets a cause by software; writing 1 to EICR clears it.
        _ = d.read(L.EICR)
        d.write(L.EICS, 1 << 5)
        #expect(d.model.pendingCauses == 1 << 5)
        d.write(L.EICR, 1 << 5)
        #expect(d.model.pendingCauses == 0)
    }

    @Test func eitrThrottlesTheSameCause() throws {
        let d = try D()
        try d.start()
        d.enableInterrupts(throttleMicroseconds: 100)
        receiveOne(d)
        #expect(d.read(L.EICR) == 1)
        d.clock.advance(by: .microseconds(10))
        receiveOne(d)
        #expect(d.model.counters.rxFrames == 2)
        #expect(d.model.pendingCauses == 0)  // held back
        #expect(d.model.counters.throttledInterrupts == 1)
        d.clock.advance(by: .microseconds(80))
        d.model.step()
        #expect(d.model.pendingCauses == 0)
        d.clock.advance(by: .microseconds(10))
        d.model.step()
        #expect(d.read(L.EICR) == 1)  // 100 µs after the last one
        // Once the interval has passed, the next frame interrupts at once.
        d.clock.advance(by: .microseconds(200))
        receiveOne(d)
        #expect(d.read(L.EICR) == 1)
    }

    @Test func noThrottleWithZeroInterval() throws {
        let d = try D()
        try d.start()
        d.enableInterrupts(throttleMicroseconds: 0)
        receiveOne(d)
        #expect(d.read(L.EICR) == 1)
        receiveOne(d)
        #expect(d.read(L.EICR) == 1)
    }
}
