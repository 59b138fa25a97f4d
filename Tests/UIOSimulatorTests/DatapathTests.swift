import Testing
import UIO
#if canImport(Glibc)
import Glibc
#endif
@testable import UIOSimulator

@Suite("TX, RX and control queues")
struct DatapathTests {
    typealias L = VirtioNetModelLayout

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func transmitWithHeaderInSeparateDescriptor(layout: VirtioNetModel.Layout) throws {
        let d = try MiniDriver(layout: layout, features: layout == .legacy ? [.mac] : [.mac, .version1])
        try d.start()
        let header = layout == .legacy ? 10 : 12
        let frame = MiniDriver.frame(60)
        let (hv, hp) = d.buffer(0)
        let (fv, fp) = d.buffer(1)
        memset(hv, 0, header)
        frame.withUnsafeBytes { fv.copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        let head = d.queues[1].post([(hp, header, false), (fp, frame.count, false)])
        d.notify(1)
        #expect(d.model.takeTransmitted().isEmpty, "the model must not work inside a register write")
        #expect(d.model.step())
        #expect(d.model.takeTransmitted() == [frame])
        let used = d.queues[1].takeUsed()
        #expect(used.count == 1 && used[0].id == UInt32(head) && used[0].length == 0)
        #expect(d.model.faults.isEmpty)
        #expect(d.model.notifications(queue: 1) == 1)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func transmitWithHeaderSharingTheDescriptor(layout: VirtioNetModel.Layout) throws {
        let d = try MiniDriver(layout: layout)
        try d.start()
        let header = d.model.headerSize
        let frame = MiniDriver.frame(100, seed: 7)
        let (v, p) = d.buffer(0)
        memset(v, 0, header)
        frame.withUnsafeBytes { (v + header).copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        d.queues[1].post([(p, header + frame.count, false)])
        d.notify(1)
        d.model.step()
        #expect(d.model.takeTransmitted() == [frame])
        #expect(d.model.faults.isEmpty)
    }

    @Test func sharedHeaderWithoutAnyLayoutIsReported() throws {
        let d = try MiniDriver(layout: .legacy, features: [.mac])  // a device lacking ANY_LAYOUT
        try d.start()
        let (v, p) = d.buffer(0)
        memset(v, 0, 10 + 60)
        d.queues[1].post([(p, 10 + 60, false)])
        d.notify(1)
        d.model.step()
        #expect(d.model.takeTransmitted().count == 1)
        #expect(d.model.faults.count == 1)
        if case .protocolViolation = d.model.faults.first {} else { Issue.record("expected a protocol violation") }
    }

    @Test func noKickNoTransmit() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start()
        let (_, p) = d.buffer(0)
        d.queues[1].post([(p, 12 + 60, false)])
        #expect(!d.model.step())
        #expect(d.model.takeTransmitted().isEmpty)
        d.notify(1)
        #expect(d.model.step())
        #expect(d.model.takeTransmitted().count == 1)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func receiveIntoPostedBuffers(layout: VirtioNetModel.Layout) throws {
        let d = try MiniDriver(layout: layout)
        try d.start()
        let header = d.model.headerSize
        let (hv, hp) = d.buffer(0)
        let (fv, fp) = d.buffer(1)
        memset(hv, 0xee, header)
        let head = d.queues[0].post([(hp, header, true), (fp, 1514, true)])
        d.notify(0)
        let frame = MiniDriver.frame(200, seed: 3)
        d.model.inject(frame: frame)
        #expect(d.model.step())
        let used = d.queues[0].takeUsed()
        #expect(used.count == 1 && used[0].id == UInt32(head))
        #expect(used[0].length == UInt32(header + frame.count))
        #expect(Array(UnsafeRawBufferPointer(start: fv, count: frame.count)) == frame)
        let headerBytes = Array(UnsafeRawBufferPointer(start: hv, count: header))
        #expect(headerBytes[0..<10].allSatisfy { $0 == 0 })
        if header == 12 { #expect(headerBytes[10] == 1 && headerBytes[11] == 0) }  // num_buffers
        #expect(d.model.counters.rxFrames == 1)
        #expect(d.model.pendingISR == 1)
        #expect(d.model.faults.isEmpty)
    }

    @Test func receiveHeaderAndFrameInOneBuffer() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start()
        let (v, p) = d.buffer(0)
        d.queues[0].post([(p, 2048, true)])
        let frame = MiniDriver.frame(64)
        d.model.inject(frame: frame)
        d.model.step()
        #expect(d.queues[0].takeUsed().first?.length == UInt32(12 + 64))
        #expect(Array(UnsafeRawBufferPointer(start: v + 12, count: 64)) == frame)
    }

    @Test func mergeableBuffersSpanChains() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start(accepting: [.version1, .mergeableRXBuffers])
        let (v0, p0) = d.buffer(0)
        let (v1, p1) = d.buffer(1)
        d.queues[0].post([(p0, 1024, true)])
        d.queues[0].post([(p1, 1024, true)])
        let frame = MiniDriver.frame(1500, seed: 9)
        d.model.inject(frame: frame)
        d.model.step()
        let used = d.queues[0].takeUsed()
        #expect(used.map(\.length) == [1024, UInt32(12 + 1500 - 1024)])
        #expect(v0.load(fromByteOffset: 10, as: UInt16.self) == 2)
        let received = Array(UnsafeRawBufferPointer(start: v0 + 12, count: 1012)) + Array(UnsafeRawBufferPointer(start: v1, count: 1500 - 1012))
        #expect(received == frame)
    }

    @Test func receiveWithoutBuffersDropsAndCounts() throws {
        let d = try MiniDriver(layout: .legacy)
        try d.start()
        d.model.inject(frame: MiniDriver.frame(60))
        d.model.inject(frame: MiniDriver.frame(60))
        d.model.step()
        #expect(d.model.counters.rxDropped == 2)
        #expect(d.model.counters.rxFrames == 0)
        #expect(d.model.pendingISR == 0)
        // Too small a buffer without MRG_RXBUF: dropped, and the buffer stays posted.
        let (_, p) = d.buffer(0)
        d.queues[0].post([(p, 30, true)])
        d.model.inject(frame: MiniDriver.frame(60))
        d.model.step()
        #expect(d.model.counters.rxDropped == 3)
        #expect(d.model.counters.rxTooLarge == 1)
        d.model.inject(frame: MiniDriver.frame(14))
        d.model.step()
        #expect(d.queues[0].takeUsed().first?.length == UInt32(d.model.headerSize + 14))
    }

    @Test func framesBeforeDriverOKAreDropped() throws {
        let d = try MiniDriver(layout: .modern)
        d.model.inject(frame: MiniDriver.frame(60))
        d.model.step()
        #expect(d.model.counters.rxDropped == 1)
    }

    @Test func noDMAWithoutBusMaster() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start(enableDMA: false)
        let (_, p) = d.buffer(0)
        d.queues[1].post([(p, 12 + 60, false)])
        d.notify(1)
        d.model.step()
        #expect(d.model.takeTransmitted().isEmpty)
        try d.function.enableDMA()
        d.notify(1)
        d.model.step()
        #expect(d.model.takeTransmitted().count == 1)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func controlQueuePromiscuous(layout: VirtioNetModel.Layout) throws {
        let d = try MiniDriver(layout: layout)
        try d.start(queueCount: 3)
        #expect(d.model.isPromiscuous)  // QEMU's default
        let (v, p) = d.buffer(0)
        v.storeBytes(of: L.Control.classRX, as: UInt8.self)
        v.storeBytes(of: L.Control.rxPromisc, toByteOffset: 1, as: UInt8.self)
        v.storeBytes(of: 0 as UInt8, toByteOffset: 2, as: UInt8.self)
        v.storeBytes(of: 0xaa as UInt8, toByteOffset: 16, as: UInt8.self)
        d.queues[2].post([(p, 2, false), (p + 2, 1, false), (p + 16, 1, true)])
        d.notify(2)
        d.model.step()
        #expect(v.load(fromByteOffset: 16, as: UInt8.self) == L.Control.ok)
        #expect(d.queues[2].takeUsed().first?.length == 1)
        #expect(!d.model.isPromiscuous)
        // Now only our own MAC and broadcast get through.
        d.queues[0].post([(d.buffer(1).physical, 2048, true)])
        d.model.inject(frame: MiniDriver.frame(60, destination: [0x02, 0, 0, 0, 0, 9]))
        d.model.step()
        #expect(d.model.counters.rxFiltered == 1)
        #expect(d.queues[0].takeUsed().isEmpty)
        d.model.inject(frame: MiniDriver.frame(60, destination: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
        d.model.step()
        #expect(d.queues[0].takeUsed().count == 1)
    }

    @Test func unknownControlCommandGetsError() throws {
        let d = try MiniDriver(layout: .modern)
        try d.start(queueCount: 3)
        let (v, p) = d.buffer(0)
        v.storeBytes(of: 0x7f as UInt8, as: UInt8.self)
        v.storeBytes(of: 0 as UInt8, toByteOffset: 1, as: UInt8.self)
        d.queues[2].post([(p, 2, false), (p + 16, 1, true)])
        d.notify(2)
        d.model.step()
        #expect(v.load(fromByteOffset: 16, as: UInt8.self) == L.Control.err)
    }
}

@Suite("Device options")
struct DeviceOptionTests {
    typealias L = VirtioNetModelLayout

    @Test func txPollingSetsNoNotifyAndSendsWithoutKick() throws {
        let d = try MiniDriver(VirtioNetModel.Configuration(layout: .modern, queueSize: 16, txPolling: true))
        try d.start()
        #expect(d.queues[1].usedFlags & L.Ring.usedFlagNoNotify != 0)
        #expect(d.queues[0].usedFlags == 0)
        d.queues[1].post([(d.buffer(0).physical, 12 + 60, false)])
        d.model.step()
        #expect(d.model.takeTransmitted().count == 1)
    }

    @Test func modernDriverMayShrinkAQueue() throws {
        let d = try MiniDriver(layout: .modern, queueSize: 256)
        d.registers.write16(L.Common.queueSelect, 0)
        #expect(d.registers.read16(L.Common.queueSize) == 256)
        d.registers.write16(L.Common.queueSize, 64)
        #expect(d.registers.read16(L.Common.queueSize) == 64)
        d.registers.write16(L.Common.queueSize, 100)  // not a power of two
        #expect(d.registers.read16(L.Common.queueSize) == 64)
        #expect(d.model.faults.count == 1)
    }

    @Test func destroyingTheFunctionStopsDMA() throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(layout: .modern, dma: dma)
        do {
            let function = model.makePCIFunction()
            try function.enableDMA()
            #expect(model.configSpace.busMasterEnabled)
            _ = consume function
        }
        #expect(!model.configSpace.busMasterEnabled)
    }
}
