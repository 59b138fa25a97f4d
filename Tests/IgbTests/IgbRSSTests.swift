import IntelNIC
import Testing
import UIO
@testable import Igb

/// RSS and detached queue pairs on the 82576, against the register file: the MRQC, RSSRK and
/// RETA values QEMU's igb reads (MRQC bits 1:0 = 10b and RXCSUM.PCSD, or it does not hash;
/// queue = RETA byte & 0x0F), and the interrupt writes of handles that share ICR.RXDW.
@Suite struct IgbRSSTests {
    static func configuration(queues: Int) -> IgbConfiguration {
        IgbConfiguration(rxQueues: queues, txQueues: queues, ringSize: 64, mempoolSize: 256, linkTimeout: .milliseconds(200))
    }

    @Test func oneQueueLeavesRSSOff() throws {
        let regs = FakeIgbRegisters()
        var device = try IgbDevice(function: FakeIgbFunction(registers: regs), allocator: FakeIgbAllocator(),
                                   configuration: Self.configuration(queues: 1))
        defer { device.shutdown() }
        #expect(regs[IGB.MRQC] == 0)
    }

    @Test func twoQueuesGetTheKeyTheTableAndMRQCBeforeReceiveIsOn() throws {
        let regs = FakeIgbRegisters()
        var device = try IgbDevice(function: FakeIgbFunction(registers: regs), allocator: FakeIgbAllocator(),
                                   configuration: Self.configuration(queues: 2))
        defer { device.shutdown() }
        #expect(regs[IGB.MRQC] == 0x0043_0002)
        #expect(regs[IGB.RXCSUM] & IGB.RXCSUM_PCSD != 0)
        #expect(regs[IGB.RSSRK(0)] == 0xda56_5a6d)
        #expect(regs[IGB.RSSRK(9)] == 0xfa01_acbe)
        for n in 0..<32 { #expect(regs[IGB.RETA(n)] == 0x0100_0100) }
        let mrqc = try #require(regs.firstWrite(to: IGB.MRQC))
        let rctl = try #require(regs.firstWrite(to: IGB.RCTL) { $0 & IGB.RCTL_EN != 0 })
        #expect(mrqc < rctl)
        // Both rings are set up and handed over.
        #expect(regs.writes(to: IGB.RDT(1)).last == 63)
        #expect(regs[IGB.TXDCTL(1)] & IGB.TXDCTL_ENABLE != 0)
        #expect(device.maxQueuePairs == 2)
    }

    /// Handles receive from their own ring and count in their own slot; arming one never
    /// clears or masks the shared RXDW cause another queue sleeps on.
    @Test func detachedPairsUseTheirOwnRingsAndNeverMaskTheSharedCause() throws {
        let regs = FakeIgbRegisters()
        var device = try IgbDevice(function: FakeIgbFunction(registers: regs), allocator: FakeIgbAllocator(),
                                   configuration: Self.configuration(queues: 2))
        defer { device.shutdown() }
        let ring1 = regs.rxRing(1)
        for slot in 0..<2 {
            ring1.storeBytes(of: AdvancedRXDescriptor.STAT_DD | AdvancedRXDescriptor.STAT_EOP, toByteOffset: 16 * slot + 8, as: UInt32.self)
            ring1.storeBytes(of: UInt16(60), toByteOffset: 16 * slot + 12, as: UInt16.self)
        }
        let imcBefore = regs.writes(to: IGB.IMC).count, icrBefore = regs.writes(to: IGB.ICR).count
        var user = Handles()
        try device.withDetachedQueues(&user)
        #expect(user.received == [0, 2])
        #expect(user.probes == [false, true])
        #expect(regs.writes(to: IGB.RDT(1)).last == 1)
        #expect(regs.writes(to: IGB.IMC).count == imcBefore)
        #expect(regs.writes(to: IGB.ICR).count == icrBefore)
        #expect(regs.writes(to: IGB.IMS).suffix(2) == [IGB.ICR_RXDW, IGB.ICR_RXDW])
        #expect(device.queueStatistics(1).rxPackets == 2 && device.queueStatistics(1).rxBytes == 120)
        #expect(device.queueStatistics(0).rxPackets == 0)
    }

    struct Handles: QueueSetUser {
        var received: [Int] = []
        var probes: [Bool] = []
        mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws {
            for q in 0..<queues.count {
                let handle = queues.slot(q)
                probes.append(handle.pointee.receiveProbe().isPending)
                var batch = PacketBatch(capacity: 32)
                received.append(handle.pointee.receive(into: &batch))
                batch.removeAll()
                handle.pointee.disableInterrupt()
                handle.pointee.enableInterrupt()
            }
        }
    }
}
