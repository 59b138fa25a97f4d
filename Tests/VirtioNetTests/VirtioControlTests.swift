import PacketProcessing
import Scheduler
import Testing
import UIO
import UIOSimulator
import VirtioNet

@Suite struct VirtioControlTests {
    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func rxInterruptArrivesAndIsRearmed(layout: VirtioNetModel.Layout) throws {
        var nic = try SimulatedVirtioNIC(layout: layout)
        // Disarmed (the default): a frame raises no interrupt.
        nic.model.inject(frame: testFrame(1))
        _ = nic.model.step()
        #expect(try nic.device.waitForInterrupt(timeout: .milliseconds(10)) == nil)
        var batch = PacketBatch(capacity: 8)
        _ = nic.device.receive(queue: 0, into: &batch)

        nic.device.enableInterrupt(queue: 0)
        nic.model.inject(frame: testFrame(2))
        _ = nic.model.step()
        #expect(nic.model.interruptLine.isMasked, "INTx is masked when it fires, as uio_pci_generic does")
        let event = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        #expect(event.missed == 0)
        let pending = nic.device.hasPendingReceive(queue: 0)
        #expect(pending)
        let causes = try nic.device.acknowledgeInterrupt()
        #expect(causes == InterruptCauses(queues: 1, linkChanged: false))
        #expect(!nic.model.interruptLine.isMasked)
        #expect(!nic.model.interruptLine.isAsserted, "reading ISR deasserts the line")
        #expect(nic.device.receive(queue: 0, into: &batch) == 1)
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func linkChangeIsAConfigInterrupt(layout: VirtioNetModel.Layout) throws {
        var nic = try SimulatedVirtioNIC(layout: layout)
        nic.model.setLink(up: false)
        _ = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        let down = try nic.device.acknowledgeInterrupt()
        #expect(down.linkChanged)
        #expect(!nic.device.link.isUp)
        nic.model.setLink(up: true)
        _ = try #require(try nic.device.waitForInterrupt(timeout: .seconds(1)))
        #expect(try nic.device.acknowledgeInterrupt().linkChanged)
        #expect(nic.device.link.isUp)
    }

    @Test func shutdownMidTrafficLeavesNoStaleDMA() throws {
        var nic = try SimulatedVirtioNIC(layout: .modern)
        var batch = PacketBatch(capacity: 64)
        for i in 0..<20 { nic.model.inject(frame: testFrame(i)) }
        _ = nic.model.step()
        _ = nic.device.receive(queue: 0, into: &batch)
        _ = nic.device.transmit(queue: 0, from: &batch)  // in flight, not yet sent
        let delivered = nic.model.counters.rxFrames
        nic.device.shutdown()
        #expect(nic.model.deviceStatus == 0, "the device is reset")
        // Traffic keeps arriving, and the kicked TX ring is still there: no DMA may happen.
        for i in 0..<20 { nic.model.inject(frame: testFrame(i)) }
        _ = nic.model.step()
        #expect(nic.model.counters.rxFrames == delivered)
        #expect(nic.model.takeTransmitted().isEmpty)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
    }

    /// An application that throws mid-run unwinds through the device's deinit: the device is
    /// reset (no more DMA) and only then are its rings and buffers freed.
    @Test func aThrownErrorMidRunResetsTheDeviceBeforeItsMemoryIsFreed() throws {
        struct ApplicationFailed: Error {}
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: .legacy), dma: dma)
        func runUntilFailure() throws {
            var device = try SimulatedVirtioDevice(function: model.makePCIFunction(), allocator: dma)
            var batch = PacketBatch(capacity: 32)
            for i in 0..<10 { model.inject(frame: testFrame(i)) }
            _ = model.step()
            #expect(device.receive(queue: 0, into: &batch) == 10)
            #expect(device.transmit(queue: 0, from: &batch) == 10)   // kicked, not yet sent
            throw ApplicationFailed()
        }
        #expect(throws: ApplicationFailed.self) { try runUntilFailure() }
        #expect(model.deviceStatus == 0, "the device is reset")
        #expect(dma.bytesAllocated == 0, "rings, mempool and control buffer are freed")
        // The TX ring was kicked and frames keep arriving: a device still running would now
        // DMA into freed memory, which the model reports as faults.
        for i in 0..<20 { model.inject(frame: testFrame(i)) }
        _ = model.step()
        #expect(model.takeTransmitted().isEmpty)
        #expect(model.faults.isEmpty, "\(model.faults)")
    }

    @Test func promiscuousModeGoesThroughTheControlQueue() throws {
        var nic = try SimulatedVirtioNIC(layout: .legacy)
        nic.model.startRunning()
        defer { nic.model.stopRunning() }
        #expect(nic.model.isPromiscuous, "QEMU starts promiscuous")
        try nic.device.setPromiscuous(false)
        #expect(!nic.model.isPromiscuous)
        try nic.device.setPromiscuous(true)
        #expect(nic.model.isPromiscuous)
    }

    @Test func promiscuousModeWithoutControlQueueIsAClearError() throws {
        var nic = try SimulatedVirtioNIC(.init(layout: .legacy, features: [.mac, .status, .anyLayout]))
        do {
            try nic.device.setPromiscuous(true)
            Issue.record("setPromiscuous succeeded without a control queue")
        } catch {
            #expect("\(error)".contains("no control queue"))
        }
    }
}

/// The echo server's logic against a simulated NIC: frames in, answers out, byte for byte.
@Suite struct EchoOnSimulatedNICTests {
    struct Echo: BatchHandler {
        var responder: EchoResponder
        mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
            batch.removeAll { packet in
                guard case .reply(let length) = responder.respond(to: packet.data, length: packet.length, capacity: packet.capacity) else { return true }
                packet.length = length
                return false
            }
            _ = device.transmit(queue: queue, from: &batch)
        }
    }

    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func answersARPAndICMPAndUDP(layout: VirtioNetModel.Layout) throws {
        var nic = try SimulatedVirtioNIC(layout: layout)
        let mac = nic.device.macAddress
        let host: [UInt8] = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]
        func ip(_ proto: UInt8, _ payload: [UInt8], from src: [UInt8], to dst: [UInt8]) -> [UInt8] {
            var h: [UInt8] = [0x45, 0, UInt8((20 + payload.count) >> 8), UInt8((20 + payload.count) & 0xff), 0, 1, 0x40, 0, 64, proto, 0, 0] + src + dst
            let c = InternetChecksum.compute(h, 20)
            h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xff)
            return h + payload
        }
        let arp = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + host + [0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1] + host + [192, 0, 2, 1]
            + [0, 0, 0, 0, 0, 0, 192, 0, 2, 2] + [UInt8](repeating: 0, count: 18)
        var icmp: [UInt8] = [8, 0, 0, 0, 0, 1, 0, 1] + Array("swift-uio".utf8)
        var c = InternetChecksum.compute(icmp, icmp.count)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xff)
        let ping = mac.array + host + [0x08, 0x00] + ip(1, icmp, from: [192, 0, 2, 1], to: [192, 0, 2, 2])
        let udpPayload = Array("echo me".utf8)
        let udp: [UInt8] = [0x9c, 0x40, 0, 7, 0, UInt8(8 + udpPayload.count), 0, 0] + udpPayload  // no checksum
        let datagram = mac.array + host + [0x08, 0x00] + ip(17, udp, from: [192, 0, 2, 1], to: [192, 0, 2, 2])
        for frame in [arp, ping, datagram] { nic.model.inject(frame: frame) }
        _ = nic.model.step()

        var handler = Echo(responder: EchoResponder(mac: mac, ip: IPv4Address(parsing: "192.0.2.2")!))
        var loop = PacketLoop(policy: SchedulerPolicy(mode: .poll))
        var polls = 0
        try loop.run(device: &nic.device, handler: &handler) { polls += 1; return polls > 3 }
        _ = nic.model.step()
        let out = nic.model.takeTransmitted()
        #expect(out.count == 3)
        guard out.count == 3 else { return }

        let arpReply = host + mac.array + [0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2] + mac.array + [192, 0, 2, 2] + host + [192, 0, 2, 1]
            + [UInt8](repeating: 0, count: 18)
        #expect(out[0] == arpReply)
        var reply: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 1] + Array("swift-uio".utf8)
        c = InternetChecksum.compute(reply, reply.count)
        reply[2] = UInt8(c >> 8); reply[3] = UInt8(c & 0xff)
        #expect(out[1] == host + mac.array + [0x08, 0x00] + ip(1, reply, from: [192, 0, 2, 2], to: [192, 0, 2, 1]) + [UInt8](repeating: 0, count: 9))
        // UDP: ports swapped, payload unchanged, checksum now filled in (verified by summing).
        #expect(Array(out[2][42...]) == udpPayload + [UInt8](repeating: 0, count: 60 - 42 - udpPayload.count))
        #expect(Array(out[2][34..<38]) == [0, 7, 0x9c, 0x40])
        let pseudo: [UInt8] = [192, 0, 2, 2, 192, 0, 2, 1, 0, 17, 0, UInt8(8 + udpPayload.count)]
        #expect(InternetChecksum.sum(pseudo + Array(out[2][34..<(42 + udpPayload.count)]), pseudo.count + 8 + udpPayload.count) == 0xffff)
        #expect(handler.responder.counters.replies == 3)
    }
}
