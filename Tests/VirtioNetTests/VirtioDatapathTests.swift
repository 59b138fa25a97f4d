import Testing
import UIO
import UIOSimulator
import VirtioNet

@Suite struct VirtioDatapathTests {
    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func initialisesAndReadsMACAndLink(layout: VirtioNetModel.Layout) throws {
        let nic = try SimulatedVirtioNIC(layout: layout)
        #expect(nic.device.macAddress == MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56))
        #expect(nic.device.link.isUp)
        #expect(nic.model.deviceStatus & Virtio.Status.driverOK != 0)
        #expect(nic.device.layout.rawValue == (layout == .legacy ? "legacy" : "modern"))
        // Asked only for what it uses: no mergeable buffers.
        #expect(!nic.model.negotiatedFeatures.contains(.mergeableRXBuffers))
        #expect(nic.model.faults.isEmpty)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern], [1, 7, 32, 64])
    func receivesFramesIntactAcrossRingWrapAround(layout: VirtioNetModel.Layout, batchSize: Int) throws {
        var nic = try SimulatedVirtioNIC(layout: layout)
        var batch = PacketBatch(capacity: batchSize)
        var next = 0
        // 600 frames through a 256-entry ring: the ring wraps twice.
        for round in 0..<20 {
            for i in 0..<30 { nic.model.inject(frame: testFrame(round * 30 + i, size: 60 + (i * 37) % 1400)) }
            _ = nic.model.step()
            while true {
                let n = nic.device.receive(queue: 0, into: &batch)
                if n == 0 { break }
                for i in 0..<n {
                    #expect(batch[i].array == testFrame(next, size: 60 + ((next % 30) * 37) % 1400))
                    next += 1
                }
                batch.removeAll()
                _ = nic.model.step()
            }
        }
        #expect(next == 600)
        #expect(nic.device.statistics().rxPackets == 600)
        #expect(nic.model.counters.rxDropped == 0)
        #expect(nic.model.faults.isEmpty)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func transmitsFramesIntactAndRecyclesBuffers(layout: VirtioNetModel.Layout) throws {
        var nic = try SimulatedVirtioNIC(layout: layout)
        let pool = nic.device.mempool
        let before = pool.available
        var batch = PacketBatch(capacity: 32)
        var sent: [[UInt8]] = []
        for round in 0..<40 {  // 1,280 frames through a 256-entry TX ring
            for i in 0..<32 {
                let frame = testFrame(round * 32 + i, size: 60 + i * 40)
                let buffer = try #require(pool.unsafeAllocateHeader())
                PacketBufferHeader.data(buffer).copyMemory(from: frame, byteCount: frame.count)
                buffer.pointee.storedLength = UInt32(frame.count)
                batch.unsafeAppend(buffer)
                sent.append(frame)
            }
            #expect(nic.device.transmit(queue: 0, from: &batch) == 32)
            let left = batch.count
            #expect(left == 0)
            _ = nic.model.step()
        }
        #expect(nic.model.takeTransmitted() == sent)
        // One more transmit call collects the last completions.
        _ = nic.device.transmit(queue: 0, from: &batch)
        #expect(pool.available == before)
        #expect(nic.device.statistics().txPackets == 1280)
        #expect(nic.model.faults.isEmpty)
    }

    @Test func worksWithoutAnyLayout() throws {
        // A legacy device that lacks ANY_LAYOUT (VirtualBox): the header gets its own descriptor.
        var nic = try SimulatedVirtioNIC(.init(layout: .legacy, features: [.mac, .status]))
        nic.model.inject(frame: testFrame(1))
        _ = nic.model.step()
        var batch = PacketBatch(capacity: 8)
        #expect(nic.device.receive(queue: 0, into: &batch) == 1)
        #expect(batch[0].array == testFrame(1))
        #expect(nic.device.transmit(queue: 0, from: &batch) == 1)
        _ = nic.model.step()
        #expect(nic.model.takeTransmitted() == [testFrame(1)])
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
    }

    @Test func countsDropsWhenTheRXRingOverflows() throws {
        var nic = try SimulatedVirtioNIC(layout: .legacy)
        for i in 0..<300 { nic.model.inject(frame: testFrame(i)) }
        _ = nic.model.step()
        var batch = PacketBatch(capacity: 512)
        #expect(nic.device.receive(queue: 0, into: &batch) == 256)
        #expect(nic.model.counters.rxDropped == 44)
    }

    @Test func survivesMempoolExhaustion() throws {
        // 300 buffers: 256 go to the RX ring, so the application can hold only 44 more.
        var nic = try SimulatedVirtioNIC(.init(layout: .legacy), mempoolSize: 300)
        var held = PacketBatch(capacity: 1024)
        for round in 0..<3 {
            for i in 0..<256 { nic.model.inject(frame: testFrame(round * 256 + i)) }
            _ = nic.model.step()
            _ = nic.device.receive(queue: 0, into: &held)
        }
        // The ring could not be refilled: receiving goes on returning what it can, no crash.
        #expect(held.count == 300)
        #expect(nic.device.mempool.available == 0)
        // Frames that arrive while the ring is empty are dropped by the device...
        let droppedBefore = nic.model.counters.rxDropped
        nic.model.inject(frame: testFrame(0))
        _ = nic.model.step()
        #expect(nic.model.counters.rxDropped == droppedBefore + 1)
        // ...and once buffers are back, the next receive call refills the ring.
        held.removeAll()
        var batch = PacketBatch(capacity: 32)
        #expect(nic.device.receive(queue: 0, into: &batch) == 0)
        for i in 0..<10 { nic.model.inject(frame: testFrame(i)) }
        _ = nic.model.step()
        #expect(nic.device.receive(queue: 0, into: &batch) == 10)
    }
}
