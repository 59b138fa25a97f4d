import Testing
import UIO
@testable import UIOSimulator

@Suite("Simulated DMA and faults")
struct FaultAndDMATests {
    typealias L = VirtioNetModelLayout

    @Test func translateKnowsOnlyWhatItGaveOut() throws {
        let dma = SimulatedDMA()
        let region = try dma.allocate(size: 10_000, contiguous: true)
        #expect(region.physicalAddress == SimulatedDMA.defaultPhysicalBase)
        #expect(Int(bitPattern: region.virtualAddress) % 4096 == 0)
        #expect(region.size == 12_288)
        #expect(dma.translate(physical: region.physicalAddress + 100, length: 8) == region.virtualAddress + 100)
        #expect(try dma.physicalAddress(of: region.virtualAddress + 5) == region.physicalAddress + 5)
        #expect(dma.translate(physical: region.physicalAddress + UInt64(region.size) - 4, length: 8) == nil)
        #expect(dma.translate(physical: 0xdead_0000, length: 1) == nil)
        let second = try dma.allocate(size: 100, contiguous: false)
        #expect(second.physicalAddress > region.physicalAddress + UInt64(region.size))
        dma.free(region)
        #expect(dma.translate(physical: region.physicalAddress, length: 1) == nil)
        dma.free(second)
        #expect(dma.bytesAllocated == 0)
    }

    @Test func mempoolRunsOnSimulatedDMA() throws {
        let dma = SimulatedDMA()
        let pool = try Mempool(count: 64, allocator: dma)
        guard let buffer = pool.allocate() else { Issue.record("empty pool"); return }
        #expect(dma.translate(physical: buffer.header.pointee.dataPhysicalAddress, length: 64) == buffer.data)
        _ = consume buffer
        #expect(pool.destroy(using: dma))
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func dmaToUnknownAddressIsReportedNotACrash(layout: VirtioNetModel.Layout) throws {
        let d = try MiniDriver(layout: layout)
        try d.start()
        d.queues[0].post([(0xdead_0000, 2048, true)])
        d.model.inject(frame: MiniDriver.frame(60))
        d.model.step()
        #expect(d.model.isBroken)
        guard case .dmaOutsideMemory(let address, _, _) = d.model.faults.first else {
            Issue.record("expected a DMA fault, got \(d.model.faults)")
            return
        }
        #expect(address == 0xdead_0000)
        if layout == .modern {
            #expect(d.status & L.Status.deviceNeedsReset != 0)
            #expect(d.readISR() == 0x03)
        }
        // A reset brings the device back.
        try d.start()
        #expect(!d.model.isBroken)
    }

    @Test func ringOutsideMemoryIsReported() throws {
        let d = try MiniDriver(layout: .modern)
        try d.function.enableDMA()
        d.status = L.Status.acknowledge | L.Status.driver
        d.writeDriverFeatures([.version1])
        d.status = L.Status.acknowledge | L.Status.driver | L.Status.featuresOK
        d.registers.write16(L.Common.queueSelect, 1)
        d.registers.write64(L.Common.queueDesc, 0x10_0000)
        d.registers.write64(L.Common.queueAvail, 0x20_0000)
        d.registers.write64(L.Common.queueUsed, 0x30_0000)
        d.registers.write16(L.Common.queueEnable, 1)
        d.status = L.Status.acknowledge | L.Status.driver | L.Status.featuresOK | L.Status.driverOK
        d.notify(1)
        d.model.step()
        #expect(d.model.isBroken)
        #expect(d.model.faults.count == 1)
    }

    @Test func descriptorLoopIsReported() throws {
        let d = try MiniDriver(layout: .legacy)
        try d.start()
        let q = d.queues[1]
        // Descriptor 0 chains to itself.
        q.region.virtualAddress.storeBytes(of: d.buffer(0).physical, as: UInt64.self)
        q.region.virtualAddress.storeBytes(of: 64 as UInt32, toByteOffset: 8, as: UInt32.self)
        q.region.virtualAddress.storeBytes(of: 1 as UInt16, toByteOffset: 12, as: UInt16.self)
        q.region.virtualAddress.storeBytes(of: 0 as UInt16, toByteOffset: 14, as: UInt16.self)
        q.avail.storeBytes(of: 0 as UInt16, toByteOffset: 4, as: UInt16.self)
        q.avail.storeBytes(of: 1 as UInt16, toByteOffset: 2, as: UInt16.self)
        d.notify(1)
        d.model.step()
        guard case .badRing = d.model.faults.first else { Issue.record("expected a ring fault, got \(d.model.faults)"); return }
    }
}
