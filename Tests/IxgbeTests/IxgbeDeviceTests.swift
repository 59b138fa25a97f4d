import Testing
import IntelNIC
@testable import Ixgbe
import UIO

/// The driver end to end against `FakeRegisters`: init's register programming, one RX and
/// TX round with the test playing the device, interrupts, statistics and shutdown.
@Suite struct IxgbeDeviceTests {
    typealias Device = IxgbeDevice<FakeFunction, FakeAllocator>

    static let configuration = IxgbeConfiguration(ringSize: 64, mempoolSize: 256, interruptThrottleMicroseconds: 100,
                                                  linkTimeout: .milliseconds(100))

    @Test func anUnsupportedDeviceIsRefusedBeforeAnyRegisterAccess() {
        let registers = FakeRegisters()
        #expect(throws: UIOError.unsupportedDevice(vendor: 0x8086, device: 0x10B6)) {
            _ = try Device(function: FakeFunction(registers: registers, deviceID: 0x10B6), allocator: FakeAllocator())
        }
        #expect(registers.writes.isEmpty)
    }

    @Test func initProgramsTheDeviceAsSection4_6Says() throws {
        let registers = FakeRegisters()
        let function = FakeFunction(registers: registers)
        let config = function.config
        let allocator = FakeAllocator()
        var device = try Device(function: function, allocator: allocator, configuration: Self.configuration)
        let r = registers

        // Linux's stop sequence, then §4.6.3's global reset: receive off, interrupts masked,
        // every queue of the 128 stopped, PCIe master access disabled, then the reset.
        let order = r.writes.map(\.offset)
        let reset = try #require(r.writes.firstIndex { $0.offset == IXGBE.CTRL && $0.value & IXGBE.CTRL_RST != 0 })
        #expect(r.writes.first?.offset == IXGBE.RXCTRL && (r.writes.first?.value ?? 1) & IXGBE.RXCTRL_RXEN == 0)
        #expect(order.firstIndex(of: IXGBE.EIMC)! < reset)
        #expect(r.writes.first { $0.offset == IXGBE.EIMC }?.value == 0x7FFF_FFFF)
        #expect(order.firstIndex(of: IXGBE.RXDCTL(127))! < reset && order.firstIndex(of: IXGBE.TXDCTL(127))! < reset)
        #expect(r.writes.firstIndex { $0.offset == IXGBE.CTRL && $0.value & IXGBE.CTRL_GIO_DIS != 0 }! < reset)
        #expect(r.resetCount == 1)
        #expect(r.writes[reset].value & IXGBE.CTRL_RST_MASK == IXGBE.CTRL_RST | IXGBE.CTRL_LNK_RST)
        #expect(config.command & PCIConfig.commandBusMaster != 0)
        // §4.6.4: 10G serial link mode, auto-negotiation restarted.
        #expect(r[IXGBE.AUTOC] & IXGBE.AUTOC_LMS_MASK == IXGBE.AUTOC_LMS_10G_SERIAL)
        #expect(r.writes(to: IXGBE.AUTOC).last! & IXGBE.AUTOC_AN_RESTART != 0)
        // §4.6.7: receive.
        #expect(r[IXGBE.RXPBSIZE(0)] == 128 << 10)
        #expect((1..<8).allSatisfy { r[IXGBE.RXPBSIZE($0)] == 0 })
        #expect(r[IXGBE.HLREG0] & IXGBE.HLREG0_RXCRCSTRP != 0)
        #expect(r[IXGBE.RDRXCTL] & IXGBE.RDRXCTL_CRCSTRIP != 0)
        #expect(r[IXGBE.FCTRL] & IXGBE.FCTRL_BAM != 0)
        #expect(r[IXGBE.FCTRL] & (IXGBE.FCTRL_UPE | IXGBE.FCTRL_MPE) == 0)
        #expect(r[IXGBE.SRRCTL(0)] == IXGBE.SRRCTL_DESCTYPE_ADV_ONEBUF | IXGBE.SRRCTL_DROP_EN | 2 | 0x400)
        #expect(r[IXGBE.RDLEN(0)] == 64 * 16)
        #expect(r[IXGBE.DCA_RXCTRL(0)] & (1 << 12) == 0)
        #expect(r[IXGBE.CTRL_EXT] & IXGBE.CTRL_EXT_NS_DIS != 0)
        #expect(r[IXGBE.RXCTRL] & IXGBE.RXCTRL_RXEN != 0)
        #expect(r[IXGBE.RXDCTL(0)] & IXGBE.RXDCTL_ENABLE != 0)
        #expect(r[IXGBE.RDH(0)] == 0)
        #expect(r[IXGBE.RDT(0)] == 63)
        // RXEN comes on after the queue is enabled, and RDT is written after RXDCTL.ENABLE.
        #expect(order.lastIndex(of: IXGBE.RXDCTL(0))! < order.lastIndex(of: IXGBE.RDT(0))!)
        #expect(order.lastIndex(of: IXGBE.RXDCTL(0))! < order.lastIndex(of: IXGBE.RXCTRL)!)
        // RXEN with the security RX path stopped (82599 errata), restarted afterwards.
        let rxen = order.lastIndex(of: IXGBE.RXCTRL)!
        #expect(r.writes(to: IXGBE.SECRXCTRL) == [IXGBE.SECRXCTRL_RX_DIS, 0])
        #expect(order.firstIndex(of: IXGBE.SECRXCTRL)! < rxen && order.lastIndex(of: IXGBE.SECRXCTRL)! > rxen)
        // §8.2.3.8.8's RDRXCTL bits.
        #expect(r[IXGBE.RDRXCTL] & (IXGBE.RDRXCTL_RSCACKC | IXGBE.RDRXCTL_FCOE_WRFIX) == IXGBE.RDRXCTL_RSCACKC | IXGBE.RDRXCTL_FCOE_WRFIX)
        #expect(r[IXGBE.RDRXCTL] & IXGBE.RDRXCTL_RSCFRSTSIZE == 0)
        // Every RX descriptor holds a buffer, DD clear.
        let rxRing = r.rxRing(0)
        for i in 0..<64 {
            #expect(rxRing.load(fromByteOffset: 16 * i, as: UInt64.self) != 0)
            #expect(rxRing.load(fromByteOffset: 16 * i + 8, as: UInt64.self) == 0)
        }
        // §4.6.8: transmit.
        #expect(r[IXGBE.HLREG0] & (IXGBE.HLREG0_TXCRCEN | IXGBE.HLREG0_TXPADEN) == IXGBE.HLREG0_TXCRCEN | IXGBE.HLREG0_TXPADEN)
        #expect(r[IXGBE.TXPBSIZE(0)] == 40 << 10)
        #expect(r[IXGBE.DTXMXSZRQ] == 0xFFF)
        #expect(r.writes(to: IXGBE.RTTDCS).contains { $0 & IXGBE.RTTDCS_ARBDIS != 0 })
        #expect(r[IXGBE.RTTDCS] & IXGBE.RTTDCS_ARBDIS == 0)
        #expect(r[IXGBE.TDLEN(0)] == 64 * 16)
        #expect(r[IXGBE.TXDCTL(0)] == IXGBE.TXDCTL_ENABLE | 36 | 8 << 8 | 4 << 16)
        #expect(r[IXGBE.DMATXCTL] & IXGBE.DMATXCTL_TE != 0)
        #expect(r[IXGBE.TDH(0)] == 0 && r[IXGBE.TDT(0)] == 0)
        // Interrupts: legacy mode, queue 0 → cause 0, only LSC enabled so far, EITR 100 µs.
        #expect(r[IXGBE.GPIE] & IXGBE.GPIE_MSIX_MODE == 0)
        #expect(r[IXGBE.IVAR(0)] & 0xFF == 0x80)
        #expect(r[IXGBE.EITR(0)] == (50 << 3) | IXGBE.EITR_CNT_WDIS)
        #expect(r.interruptMask == IXGBE.EICR_LSC)
        // Identity and link.
        let (mac, link, family) = (device.macAddress, device.link, device.family)
        let (rxQueues, txQueues, name) = (device.rxQueueCount, device.txQueueCount, device.driverName)
        #expect(mac == MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56))
        #expect(link == LinkStatus(isUp: true, speedMbps: 10_000))
        #expect(family == .i82599)
        #expect(rxQueues == 1 && txQueues == 1)
        #expect(name == "ixgbe")

        device.shutdown()
        #expect(allocator.ledger.outstanding.isEmpty)
    }

    @Test func receiveThenTransmitOneBatch() throws {
        let registers = FakeRegisters()
        let allocator = FakeAllocator()
        var device = try Device(function: FakeFunction(registers: registers), allocator: allocator, configuration: Self.configuration)
        let rxRing = registers.rxRing(0), txRing = registers.txRing(0)
        let pool = device.mempool(queue: 0)
        let freeAfterFill = pool.available
        #expect(freeAfterFill == 256 - 64)

        do {
            var batch = PacketBatch(capacity: 32)
            var pending = device.hasPendingReceive(queue: 0)
            #expect(!pending)
            var n = device.receive(queue: 0, into: &batch)
            #expect(n == 0)
            #expect(registers.writes(to: IXGBE.RDT(0)) == [0, 63], "no RDT write without work")

            deviceReceives([UInt8](repeating: 0xA1, count: 60), ring: rxRing, slot: 0)
            deviceReceives([UInt8](repeating: 0xB2, count: 1514), ring: rxRing, slot: 1)
            pending = device.hasPendingReceive(queue: 0)
            #expect(pending)
            n = device.receive(queue: 0, into: &batch)
            #expect(n == 2)
            let (count, first, second) = (batch.count, batch[0], batch[1])
            #expect(count == 2)
            #expect(first.length == 60 && first.bytes.allSatisfy { $0 == 0xA1 })
            #expect(second.length == 1514 && second.bytes.allSatisfy { $0 == 0xB2 })
            #expect(registers[IXGBE.RDT(0)] == 1, "RDT points at the last descriptor handled")
            #expect(registers.writes(to: IXGBE.RDT(0)).count == 3, "one RDT write per batch")
            // The slots got fresh buffers and are not done any more.
            pending = device.hasPendingReceive(queue: 0)
            #expect(!pending)
            #expect(rxRing.load(fromByteOffset: 8, as: UInt64.self) == 0)
            #expect(rxRing.load(as: UInt64.self) != first.physicalAddress)
            #expect(pool.available == freeAfterFill - 2)

            let addresses = [first.physicalAddress, second.physicalAddress]
            n = device.transmit(queue: 0, from: &batch)
            #expect(n == 2)
            let empty = batch.isEmpty
            #expect(empty)
            #expect(txRing.load(as: UInt64.self) == addresses[0])
            #expect(txRing.load(fromByteOffset: 16, as: UInt64.self) == addresses[1])
            #expect(txRing.load(fromByteOffset: 8, as: UInt32.self) == AdvancedTXDescriptor.commandTypeLength(length: 60))
            #expect(txRing.load(fromByteOffset: 28, as: UInt32.self) == 1514 << 14)
            #expect(registers[IXGBE.TDT(0)] == 2)
            #expect(registers.writes(to: IXGBE.TDT(0)).count == 2, "TDT = 0 at start, then once for the batch")

            // Fill a clean batch of 32, complete it (DD on its last descriptor), and the
            // next transmit returns all 32 buffers to the pool.
            for _ in 0..<30 { batch.unsafeAppend(pool.unsafeAllocateHeader()!) }
            for i in 0..<batch.count { batch[i].length = 64 }
            n = device.transmit(queue: 0, from: &batch)
            #expect(n == 30)
            let beforeClean = pool.available
            txRing.storeBytes(of: AdvancedTXDescriptor.STAT_DD, toByteOffset: 16 * 31 + 12, as: UInt32.self)
            n = device.transmit(queue: 0, from: &batch)
            #expect(n == 0)
            #expect(pool.available == beforeClean + 32)
        }
        device.shutdown()
        #expect(allocator.ledger.outstanding.isEmpty)
    }

    @Test func aFullTXRingTakesNoMore() throws {
        let allocator = FakeAllocator()
        var device = try Device(function: FakeFunction(), allocator: allocator, configuration: Self.configuration)
        let pool = device.mempool(queue: 0)
        do {
            var batch = PacketBatch(capacity: 100)
            for _ in 0..<100 { batch.unsafeAppend(pool.unsafeAllocateHeader()!) }
            let n = device.transmit(queue: 0, from: &batch)
            #expect(n == 63, "one slot of 64 always stays empty")
            let left = batch.count
            #expect(left == 37)
        }
        device.shutdown()
        #expect(allocator.ledger.outstanding.isEmpty)
    }

    @Test func aFrameSpanningDescriptorsIsDroppedAndItsBuffersReused() throws {
        let registers = FakeRegisters()
        var device = try Device(function: FakeFunction(registers: registers), allocator: FakeAllocator(), configuration: Self.configuration)
        let ring = registers.rxRing(0)
        let before = device.mempool(queue: 0).available
        deviceReceives([UInt8](repeating: 1, count: 1000), ring: ring, slot: 0, status: AdvancedRXDescriptor.STAT_DD)
        deviceReceives([UInt8](repeating: 2, count: 100), ring: ring, slot: 1)
        deviceReceives([UInt8](repeating: 3, count: 64), ring: ring, slot: 2)
        var batch = PacketBatch(capacity: 8)
        let n = device.receive(queue: 0, into: &batch)
        #expect(n == 1)
        let frame = batch[0]
        #expect(frame.length == 64 && frame.bytes.allSatisfy { $0 == 3 })
        let dropped = device.droppedFragments
        #expect(dropped == 1)
        #expect(registers[IXGBE.RDT(0)] == 2)
        let after = device.mempool(queue: 0).available
        #expect(after == before - 1)
        batch.removeAll()
        device.shutdown()
    }

    @Test func anEmptyMempoolStopsReceiveWithoutLosingTheFrame() throws {
        let registers = FakeRegisters()
        let config = IxgbeConfiguration(ringSize: 64, mempoolSize: 64, linkTimeout: .zero)
        var device = try Device(function: FakeFunction(registers: registers), allocator: FakeAllocator(), configuration: config)
        let available = device.mempool(queue: 0).available
        #expect(available == 0)
        deviceReceives([UInt8](repeating: 7, count: 60), ring: registers.rxRing(0), slot: 0)
        var batch = PacketBatch(capacity: 8)
        let n = device.receive(queue: 0, into: &batch)
        #expect(n == 0)
        #expect(registers.writes(to: IXGBE.RDT(0)) == [0, 63])
        let pending = device.hasPendingReceive(queue: 0)
        #expect(pending, "the frame stays in the ring for the next call")
        device.shutdown()
    }

    @Test func interruptsMapQueuesAndLinkChanges() throws {
        let registers = FakeRegisters()
        let function = FakeFunction(registers: registers)
        let config = function.config
        var device = try Device(function: function, allocator: FakeAllocator(), configuration: Self.configuration)
        device.enableInterrupt(queue: 0)
        #expect(registers.interruptMask == IXGBE.EICR_LSC | 1)
        device.disableInterrupt(queue: 0)
        #expect(registers.interruptMask == IXGBE.EICR_LSC)

        registers[IXGBE.EICR] = 1
        var causes = try device.acknowledgeInterrupt()
        #expect(causes == InterruptCauses(queues: 1, linkChanged: false))
        #expect(registers[IXGBE.EICR] == 0, "EICR is read-to-clear")
        #expect(config.rearmCount == 1)

        registers[IXGBE.LINKS] = 0
        registers[IXGBE.EICR] = IXGBE.EICR_LSC
        causes = try device.acknowledgeInterrupt()
        #expect(causes == InterruptCauses(queues: 0, linkChanged: true))
        var link = device.link
        #expect(link == LinkStatus(isUp: false, speedMbps: 0))
        registers[IXGBE.LINKS] = IXGBE.LINKS_UP | IXGBE.LINKS_SPEED_1G_82599
        registers[IXGBE.EICR] = IXGBE.EICR_LSC
        _ = try device.acknowledgeInterrupt()
        link = device.link
        #expect(link == LinkStatus(isUp: true, speedMbps: 1_000))
        #expect(config.rearmCount == 3)
        device.shutdown()
    }

    @Test func statisticsAccumulateTheReadToClearCounters() throws {
        let registers = FakeRegisters()
        var device = try Device(function: FakeFunction(registers: registers), allocator: FakeAllocator(), configuration: Self.configuration)
        // GPRC and GORC count dropped and missed frames too: the driver does not use them.
        registers[IXGBE.GPRC] = 100
        registers[IXGBE.GORCL] = 100_000
        registers[IXGBE.QPRC(0)] = 4
        registers[IXGBE.QPRC(15)] = 1
        registers[IXGBE.QBRC_L(0)] = 1000
        registers[IXGBE.QBRC_H(0)] = 1
        registers[IXGBE.QBRC_L(15)] = 60
        registers[IXGBE.QPRDC(3)] = 7
        registers[IXGBE.GPTC] = 4
        registers[IXGBE.GOTCL] = 600
        registers[IXGBE.MPC(0)] = 2
        registers[IXGBE.MPC(7)] = 3
        var s = device.statistics()
        #expect(s.rxPackets == 5 && s.txPackets == 4)
        // QBRC leaves out the stripped FCS; GOTC counts it, and the driver takes 4 a frame off.
        #expect(s.rxBytes == 1060 + (1 << 32) && s.txBytes == 600 - 4 * 4)
        #expect(s.rxDropped == 2 + 3 + 7)
        #expect(registers[IXGBE.GPRC] == 0, "read to clear, so that it does not stick at its maximum")
        registers[IXGBE.QPRC(1)] = 3
        s = device.statistics()
        #expect(s.rxPackets == 8 && s.txPackets == 4 && s.rxDropped == 12)
        device.shutdown()
    }

    @Test func promiscuousModeSetsAndClearsUPEAndMPE() throws {
        let registers = FakeRegisters()
        var device = try Device(function: FakeFunction(registers: registers), allocator: FakeAllocator(), configuration: Self.configuration)
        try device.setPromiscuous(true)
        #expect(registers[IXGBE.FCTRL] & (IXGBE.FCTRL_UPE | IXGBE.FCTRL_MPE) == IXGBE.FCTRL_UPE | IXGBE.FCTRL_MPE)
        #expect(registers[IXGBE.FCTRL] & IXGBE.FCTRL_BAM != 0)
        try device.setPromiscuous(false)
        #expect(registers[IXGBE.FCTRL] & (IXGBE.FCTRL_UPE | IXGBE.FCTRL_MPE) == 0)
        device.shutdown()
    }

    @Test func shutdownStopsTheDeviceAndFreesEverything() throws {
        let registers = FakeRegisters()
        let function = FakeFunction(registers: registers)
        let config = function.config
        let allocator = FakeAllocator()
        var device = try Device(function: function, allocator: allocator,
                                configuration: IxgbeConfiguration(rxQueues: 2, txQueues: 2, ringSize: 64, mempoolSize: 128))
        #expect(registers[IXGBE.IVAR(0)] & 0x00FF_00FF == 0x0081_0080, "queue 1 → cause 1 in byte 2 of IVAR(0)")
        device.enableInterrupt(queue: 1)
        device.shutdown()
        #expect(registers.resetCount == 2)
        #expect(registers.interruptMask == 0)
        for q in 0..<2 {
            #expect(registers[IXGBE.RXDCTL(q)] & IXGBE.RXDCTL_ENABLE == 0)
            #expect(registers[IXGBE.TXDCTL(q)] & IXGBE.TXDCTL_ENABLE == 0)
        }
        #expect(config.command & PCIConfig.commandBusMaster == 0)
        #expect(allocator.ledger.outstanding.isEmpty)
        device.shutdown()  // idempotent
        #expect(registers.resetCount == 2)
    }

    @Test func deinitStopsTheDeviceToo() throws {
        let registers = FakeRegisters()
        let allocator = FakeAllocator()
        do {
            _ = try Device(function: FakeFunction(registers: registers), allocator: allocator, configuration: Self.configuration)
        }
        #expect(registers.resetCount == 2)
        #expect(allocator.ledger.outstanding.isEmpty)
    }

    @Test func aResetThatNeverCompletesFailsBoundedAndAllocatesNothing() {
        let registers = FakeRegisters()
        registers.resetSticks = true
        let allocator = FakeAllocator()
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: UIOError.self) {
            _ = try Device(function: FakeFunction(registers: registers), allocator: allocator, configuration: Self.configuration)
        }
        #expect(clock.now - start < .seconds(5))
        #expect(error?.description.contains("CTRL.RST did not self-clear") == true)
        #expect(allocator.ledger.outstanding.isEmpty)
    }

    @Test func aLinkThatStaysDownIsReportedNotThrown() throws {
        let registers = FakeRegisters()
        registers[IXGBE.LINKS] = 0
        var device = try Device(function: FakeFunction(registers: registers), allocator: FakeAllocator(),
                                configuration: IxgbeConfiguration(ringSize: 64, mempoolSize: 128, linkTimeout: .milliseconds(50)))
        let link = device.link
        #expect(link == LinkStatus(isUp: false, speedMbps: 0))
        device.shutdown()
    }

    @Test func theX540KeepsItsAUTOC() throws {
        let registers = FakeRegisters()
        registers[IXGBE.AUTOC] = 0x1234_0000
        var device = try Device(function: FakeFunction(registers: registers, deviceID: 0x1528), allocator: FakeAllocator(),
                                configuration: Self.configuration)
        let family = device.family
        #expect(family == .x540)
        #expect(registers.writes(to: IXGBE.AUTOC).isEmpty)
        device.shutdown()
    }
}

@Suite struct IxgbeShutdownCountersTests {
    /// The counters counted since the last read survive `shutdown()`'s reset, a reset
    /// device's registers are not read any more, and the freed pool is reported as nil
    /// (before the shared Intel core, ixgbe read the reset registers and reported no pool).
    @Test func shutdownKeepsTheLastCountsAndReportsThePool() throws {
        let registers = FakeRegisters()
        var device = try IxgbeDeviceTests.Device(function: FakeFunction(registers: registers), allocator: FakeAllocator(),
                                                 configuration: IxgbeDeviceTests.configuration)
        let poolBefore = device.bufferPoolAvailable
        #expect(poolBefore == 256 - 64)
        registers[IXGBE.GPTC] = 7
        registers[IXGBE.GOTCL] = 7 * 64
        device.shutdown()
        registers[IXGBE.GPTC] = 99   // a reset device's registers must not be read any more
        let s = device.statistics()
        #expect(s.txPackets == 7 && s.txBytes == 7 * 60)
        let poolAfter = device.bufferPoolAvailable
        #expect(poolAfter == nil)
    }
}
