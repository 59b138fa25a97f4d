import Testing
import UIO
@testable import UIOSimulator

@Suite("82599 model: RX, TX, filters, statistics, wire")
struct IxgbeDatapathTests {
    typealias L = IxgbeModelLayout
    typealias D = IxgbeMiniDriver

    @Test func rxWritesBackDescriptorsAndAdvancesHead() throws {
        let d = try D()
        try d.start()
        d.postRX(count: 4)
        let frames = [D.frame(to: d.mac, length: 60, seed: 1), D.frame(to: d.mac, length: 1514, seed: 2)]
        frames.forEach { d.model.inject(frame: $0) }
        #expect(d.model.step())
        for (i, frame) in frames.enumerated() {
            let wb = d.rxWriteBack(i)
            #expect(wb.status & (L.RXD_STAT_DD | L.RXD_STAT_EOP) == L.RXD_STAT_DD | L.RXD_STAT_EOP)
            #expect(Int(wb.length) == frame.count)
            #expect(d.rxData(i, length: frame.count) == frame)
        }
        #expect(d.rxWriteBack(2).status == 0)
        #expect(d.read(L.RDH(0)) == 2)
        #expect(d.model.rxRing(0) == (head: 2, tail: 4))
        #expect(d.model.faults.isEmpty)
    }

    @Test func rxFrameSpansDescriptorsWhenLargerThanBuffer() throws {
        let d = try D()
        try d.start(rxBufferKiB: 1)
        d.postRX(count: 4)
        let frame = D.frame(to: d.mac, length: 1500)
        d.model.inject(frame: frame)
        d.model.step()
        #expect(d.rxWriteBack(0) == (status: L.RXD_STAT_DD, length: 1024))
        #expect(d.rxWriteBack(1) == (status: L.RXD_STAT_DD | L.RXD_STAT_EOP, length: 476))
        #expect(d.rxData(0, length: 1024) + d.rxData(1, length: 476) == frame)
        #expect(d.read(L.RDH(0)) == 2)
    }

    /// §8.2.3.23: with SRRCTL.DROP_EN a queue out of descriptors drops the frame and QPRDC
    /// counts it; without, the frame is missed (MPC). GPRC counts both (on the 82599 even the
    /// missed ones, the quirk Linux subtracts); QPRC counts what reached the ring.
    @Test func dropEnDecidesBetweenQPRDCAndMPC() throws {
        let d = try D()
        try d.start()  // DROP_EN set
        d.postRX(count: 1)
        for seed in 0..<3 { d.model.inject(frame: D.frame(to: d.mac, seed: UInt8(seed))) }
        d.model.step()
        #expect(d.read(L.RDH(0)) == 1)  // RDH == RDT: the ring is empty for the device
        #expect(d.read(L.QPRDC(0)) == 2)
        #expect(d.read(L.QPRDC(0)) == 0)
        #expect(d.read(L.MPC(0)) == 0)
        #expect(d.read(L.QPRC(0)) == 1)
        #expect(d.read(L.GPRC) == 3)
        #expect(d.registers.read64(L.GORCL) == 3 * 64, "dropped frames were in the packet buffer: their octets count")
        #expect(d.model.counters.rxQueueDropped == 2)
        // DROP_EN off: the same overflow is missed packets.
        d.write(L.SRRCTL(0), d.read(L.SRRCTL(0)) & ~L.SRRCTL_DROP_EN)
        for seed in 0..<2 { d.model.inject(frame: D.frame(to: d.mac, seed: UInt8(seed))) }
        d.model.step()
        #expect(d.read(L.MPC(0)) == 2)
        #expect(d.read(L.QPRDC(0)) == 0)
        #expect(d.read(L.GPRC) == 2, "the 82599's GPRC counts missed packets too")
        #expect(d.registers.read64(L.GORCL) == 0, "missed packets add no octets")
        // Receive off: nothing is counted at all (the statistics count only while it is on).
        d.clear(L.RXCTRL, L.RXCTRL_RXEN)
        d.postRX(count: 2)
        d.model.inject(frame: D.frame(to: d.mac))
        d.model.step()
        #expect(d.read(L.MPC(0)) == 0 && d.read(L.GPRC) == 0)
        #expect(d.model.counters.rxMissed == 3)
        #expect(d.model.counters.rxFrames == 1)
    }

    /// GORC and QBRC leave the CRC out when HLREG0.RXCRCSTRP strips it, and count it when not.
    @Test func receiveOctetsCountTheCRCOnlyWhenItIsKept() throws {
        let d = try D()
        try d.start()
        d.postRX(count: 8)
        d.model.inject(frame: D.frame(to: d.mac, length: 100))
        d.model.step()
        #expect(d.registers.read64(L.GORCL) == 100)
        #expect(d.registers.read64(L.QBRC_L(0)) == 100)
        d.clear(L.HLREG0, L.HLREG0_RXCRCSTRP)
        d.model.inject(frame: D.frame(to: d.mac, length: 100))
        d.model.step()
        #expect(d.registers.read64(L.GORCL) == 104)
        #expect(d.registers.read64(L.QBRC_L(0)) == 104)
    }

    @Test func rxOnSecondQueue() throws {
        let d = try D()
        try d.start(queues: 4)
        d.postRX(queue: 3, count: 2)
        d.model.inject(frame: D.frame(to: d.mac), queue: 3)
        d.model.inject(frame: D.frame(to: d.mac), queue: 2)  // queue 2 has no descriptors
        d.model.step()
        #expect(d.rxWriteBack(queue: 3, 0).status & L.RXD_STAT_DD != 0)
        #expect(d.read(L.RDH(3)) == 1)
        #expect(d.read(L.QPRDC(0)) == 1)  // queue 2, DROP_EN, counter 0 by RQSMR
        #expect(d.read(L.MPC(0)) == 0)
        // All queues map to per-queue counter 0 until RQSMR says otherwise.
        #expect(d.read(L.QPRC(0)) == 1)
    }

    @Test func txSendsFramesAndWritesBackDDWithRS() throws {
        let d = try D()
        try d.start()
        let one = D.frame(to: D.broadcast, length: 300, seed: 3)
        let two = D.frame(to: D.broadcast, length: 1000, seed: 4)
        let first = d.send(one, reportStatus: false)
        let second = d.send(two, split: 400)  // three descriptors, RS on the last
        #expect(second.count == 3)
        #expect(d.model.step())
        #expect(d.model.takeTransmitted() == [one, two])
        #expect(d.txStatus(first[0]) & L.TXD_STAT_DD == 0)  // no RS, no write-back
        #expect(d.txStatus(second[2]) & L.TXD_STAT_DD != 0)
        #expect(d.read(L.TDH(0)) == 4)
        #expect(d.read(L.TDH(0)) == d.read(L.TDT(0)))
        #expect(d.model.faults.isEmpty)
    }

    @Test func txWaitsForEOPAndPadsShortFrames() throws {
        let d = try D()
        try d.start()
        // Only the first half of a two-descriptor frame is handed over.
        d.send(D.frame(to: D.broadcast, length: 200), split: 100, bump: false)
        d.write(L.TDT(0), 1)
        d.model.step()
        #expect(d.model.takeTransmitted().isEmpty)
        #expect(d.read(L.TDH(0)) == 0)
        d.write(L.TDT(0), 2)
        d.model.step()
        #expect(d.model.takeTransmitted().count == 1)
        // 42 bytes go out as 60 with HLREG0.TXPADEN.
        d.send(D.frame(to: D.broadcast, length: 42))
        d.model.step()
        #expect(d.model.takeTransmitted().first?.count == 60)
    }

    @Test func txNeedsTransmitEnableAndQueueEnable() throws {
        let d = try D()
        try d.start()
        d.clear(L.DMATXCTL, L.DMATXCTL_TE)
        d.send(D.frame(to: D.broadcast))
        d.model.step()
        #expect(d.model.takeTransmitted().isEmpty)
        d.set(L.DMATXCTL, L.DMATXCTL_TE)
        d.model.step()
        #expect(d.model.takeTransmitted().count == 1)
    }

    @Test func statisticsAreReadToClearAndExact() throws {
        let d = try D()
        try d.start()
        d.postRX(count: 8)
        for _ in 0..<3 { d.model.inject(frame: D.frame(to: d.mac, length: 100)) }
        d.send(D.frame(to: D.broadcast, length: 42))   // padded to 60
        d.send(D.frame(to: D.broadcast, length: 100))
        d.model.step()
        #expect(d.read(L.GPRC) == 3)
        #expect(d.read(L.GPRC) == 0)
        #expect(d.read(L.GPTC) == 2)
        // Received octets without the FCS (stripped), transmitted ones with it.
        #expect(d.read(L.GORCL) == 3 * 100)
        #expect(d.read(L.GORCH) == 0)
        #expect(d.read(L.GORCL) == 0)
        #expect(d.registers.read64(L.GOTCL) == 64 + 104)
        #expect(d.registers.read64(L.GOTCL) == 0)
        #expect(d.read(L.QPTC(0)) == 2)
        // The high half (bits 35:32): set a count past 4 GiB directly.
        d.model.withState { $0.stats.gorc = 0x5_0000_0123; $0.stats.gotc = 0xF_FFFF_FFFF }
        #expect(d.read(L.GORCL) == 0x123)
        // A frame that arrives between the two halves is not lost.
        d.model.inject(frame: D.frame(to: d.mac, length: 100))
        d.model.step()
        #expect(d.read(L.GORCH) == 5)
        #expect(d.registers.read64(L.GORCL) == 100)
        #expect(d.registers.read64(L.GOTCL) == 0xF_FFFF_FFFF)
        #expect(d.registers.read64(L.GOTCL) == 0)
    }

    @Test func filterFollowsReceiveAddressesAndFCTRL() throws {
        let d = try D()
        try d.start()
        d.postRX(count: 16)
        let other: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
        let multicast: [UInt8] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]
        func deliver(_ destination: [UInt8]) -> Bool {
            let before = d.model.counters.rxFrames
            d.model.inject(frame: D.frame(to: destination))
            d.model.step()
            return d.model.counters.rxFrames > before
        }
        #expect(deliver(d.mac))
        #expect(deliver(D.broadcast))      // FCTRL.BAM from start()
        #expect(!deliver(other))
        #expect(!deliver(multicast))
        d.clear(L.FCTRL, L.FCTRL_BAM)
        #expect(!deliver(D.broadcast))
        d.set(L.FCTRL, L.FCTRL_MPE)
        #expect(deliver(multicast))
        #expect(!deliver(other))
        d.set(L.FCTRL, L.FCTRL_UPE)
        #expect(deliver(other))
        d.clear(L.FCTRL, L.FCTRL_UPE | L.FCTRL_MPE)
        // A second receive address, valid.
        d.write(L.RAL(1), 0x3322_1102)
        d.write(L.RAH(1), 0x5544 | L.RAH_AV)
        #expect(deliver(other))
        #expect(d.model.counters.rxFiltered == 4)
        #expect(d.read(L.MPC(0)) == 0)
    }

    @Test func wireCarriesFramesBetweenTwo82599s() throws {
        let a = try D(IxgbeModel.Configuration(mac: MACAddress(0x00, 0x1b, 0x21, 0, 0, 0xa), linkUpDelay: .immediate, clock: .manual()))
        let b = try D(IxgbeModel.Configuration(mac: MACAddress(0x00, 0x1b, 0x21, 0, 0, 0xb), linkUpDelay: .immediate, clock: .manual()))
        try a.start()
        try b.start()
        let wire = Wire(a.model, b.model)
        a.postRX(count: 4)
        b.postRX(count: 4)
        let toB = D.frame(to: b.mac, length: 128, seed: 7)
        let toA = D.frame(to: a.mac, length: 90, seed: 8)
        a.send(toB)
        b.send(toA)
        #expect(wire.step())
        #expect(wire.captures == [Wire.Capture(direction: .aToB, frame: toB), Wire.Capture(direction: .bToA, frame: toA)])
        #expect(b.rxWriteBack(0).length == 128)
        #expect(b.rxData(0, length: 128) == toB)
        #expect(a.rxData(0, length: 90) == toA)
        #expect(a.model.takeTransmitted().isEmpty)
        wire.disconnect()
        a.send(toB)
        a.model.step()
        #expect(a.model.takeTransmitted() == [toB])
    }

    @Test func wireBetweenVirtioAndIxgbe() throws {
        let v = try MiniDriver(layout: .legacy)
        try v.start()
        let x = try D()
        try x.start()
        let wire = Wire(v.model, x.model)
        x.postRX(count: 2)
        let frame = D.frame(to: x.mac, length: 80)
        let (p, physical) = v.buffer(0)
        let header = v.model.headerSize
        p.initializeMemory(as: UInt8.self, repeating: 0, count: header)
        frame.withUnsafeBytes { (p + header).copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        v.queues[1].post([(physical, header + frame.count, false)])
        v.notify(1)
        wire.step()
        #expect(wire.captures.map(\.frame) == [frame])
        #expect(x.rxData(0, length: 80) == frame)
    }
}
