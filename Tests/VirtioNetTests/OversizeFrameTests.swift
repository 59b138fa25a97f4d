import Testing
import UIO
import UIOSimulator
import VirtioNet

/// A virtio-net device hands the driver any frame that fits the posted buffer (QEMU does, and
/// so does the model): 1920 bytes with 2 KiB mempool buffers. Ethernet allows 1514, or 1518
/// with an 802.1Q tag; the driver drops longer frames and counts them (`EthernetFrame`).
@Suite struct OversizeFrameTests {
    static let peer: [UInt8] = [0x02, 0, 0, 0, 0, 1]

    static func tagged(size: Int, to mac: MACAddress = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)) -> [UInt8] {
        mac.array + peer + [0x81, 0x00, 0x00, 0x05, 0x88, 0xb5] + [UInt8](repeating: 0x5a, count: size - 18)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func framesLongerThanEthernetAllowsAreDroppedAndCounted(layout: VirtioNetModel.Layout) throws {
        var nic = try SimulatedVirtioNIC(layout: layout)
        let poolBefore = nic.device.bufferPoolAvailable
        let kept = [testFrame(1, size: 1514), Self.tagged(size: 1518), testFrame(2, size: 60)]
        let oversize = [testFrame(3, size: 1515), testFrame(4, size: 1518), Self.tagged(size: 1519),
                        testFrame(5, size: 1519), testFrame(6, size: 1600), testFrame(7, size: 1920)]
        for frame in [kept[0], oversize[0], oversize[1], kept[1], oversize[2], oversize[3], oversize[4], oversize[5], kept[2]] {
            nic.model.inject(frame: frame)
        }
        _ = nic.model.step()
        #expect(nic.model.counters.rxFrames == 9, "the device delivers them all: they fit its buffers")

        var batch = PacketBatch(capacity: 32)
        #expect(nic.device.receive(queue: 0, into: &batch) == 3)
        #expect((0..<batch.count).map { batch[$0].array } == kept, "the standard frames, whole and in order")
        let s = nic.device.statistics()
        #expect(s.rxOversize == 6)
        #expect(s.rxPackets == 3)
        #expect(s.rxBytes == 1514 + 1518 + 60)
        batch.removeAll()
        // The dropped frames' buffers went back to the pool, and the ring was refilled.
        #expect(nic.device.bufferPoolAvailable == poolBefore)
        nic.model.inject(frame: testFrame(8))
        _ = nic.model.step()
        #expect(nic.device.receive(queue: 0, into: &batch) == 1)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
    }

    /// Oversize frames mixed into echo traffic for many rounds: every buffer comes back.
    @Test func droppingOversizeFramesLeaksNoBuffer() throws {
        var nic = try SimulatedVirtioNIC(layout: .legacy)
        let poolBefore = nic.device.bufferPoolAvailable
        var batch = PacketBatch(capacity: 32)
        var sent = 0
        for round in 0..<300 {
            for frame in [testFrame(round, size: 1514), testFrame(round, size: 1600), testFrame(round, size: 60), testFrame(round, size: 1515)] {
                nic.model.inject(frame: frame)
            }
            _ = nic.model.step()
            #expect(nic.device.receive(queue: 0, into: &batch) == 2)
            sent += nic.device.transmit(queue: 0, from: &batch)
            batch.removeAll()
            _ = nic.model.step()
        }
        _ = nic.device.transmit(queue: 0, from: &batch)   // reclaims what the device sent last
        #expect(sent == 600)
        #expect(nic.model.takeTransmitted().count == 600)
        #expect(nic.device.statistics().rxOversize == 600)
        #expect(nic.device.bufferPoolAvailable == poolBefore)
    }
}
