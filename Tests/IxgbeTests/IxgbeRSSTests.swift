import IntelNIC
import Ixgbe
import Testing
import UIO
import UIOSimulator

/// RSS on the 82599: the driver's MRQC/RSSRK/RETA set-up (datasheet §4.6.7, §7.1.2.8), the
/// model's queue choice through them, and queue pairs detached for threads of their own.
@Suite struct IxgbeRSSTests {
    static let client: [UInt8] = [198, 51, 100, 7], server: [UInt8] = [198, 51, 100, 1]

    func register(_ nic: borrowing SimulatedIxgbeNIC, _ offset: Int) -> UInt32 {
        nic.model.readRegister(bar: 0, offset: offset, width: 4)
    }

    /// The queue the datasheet's procedure gives, computed here from first principles: the
    /// Toeplitz hash with the standard key, its 7 low bits into a round-robin table.
    func expectedQueue(sourcePort: UInt16, destinationPort: UInt16 = 7, queues: Int) -> Int {
        let hash = ToeplitzHash().hashIPv4(source: Self.client, destination: Self.server,
                                           sourcePort: sourcePort, destinationPort: destinationPort)
        return Int(hash & 0x7F) % queues
    }

    @Test func oneQueueLeavesRSSOff() throws {
        var nic = try SimulatedIxgbeNIC()
        #expect(register(nic, IXGBE.MRQC) == 0)
        nic.device.shutdown()
    }

    @Test func severalQueuesGetTheKeyTheTableAndMRQC() throws {
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(rxQueues: 4, txQueues: 4))
        // MRQE = RSS, hashing IPv4, TCP/IPv4 and UDP/IPv4 (bits 17, 16, 22).
        #expect(register(nic, IXGBE.MRQC) == 0x0043_0001)
        #expect(register(nic, IXGBE.RXCSUM) & IXGBE.RXCSUM_PCSD != 0)
        // Key byte 0 (0x6d) in RSSRK[0] bits 7:0; the last bytes 01 fa in RSSRK[9] bits 31:16.
        #expect(register(nic, IXGBE.RSSRK(0)) == 0xda56_5a6d)
        #expect(register(nic, IXGBE.RSSRK(9)) >> 16 == 0xfa01)
        // Entry n names queue n mod 4, four entries a register.
        for n in 0..<32 { #expect(register(nic, IXGBE.RETA(n)) == 0x0302_0100) }
        nic.device.shutdown()
    }

    /// 256 UDP flows, one frame each, land in the queue the hash and RETA give, and every
    /// queue gets a fair share.
    @Test(arguments: [2, 4])
    func udpFlowsSpreadOverTheQueuesAsRETASays(queues: Int) throws {
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(rxQueues: queues, txQueues: queues,
                                                                                        ringSize: 512))
        let ports = (0..<256).map { UInt16(40000 + $0 * 7) }
        var expected = Array(repeating: [[UInt8]](), count: queues)
        for port in ports {
            let frame = udpFrame(sourcePort: port)
            expected[expectedQueue(sourcePort: port, queues: queues)].append(frame)
            #expect(nic.model.rssQueue(for: frame).queue == expectedQueue(sourcePort: port, queues: queues))
            nic.model.inject(frame: frame)
        }
        nic.model.step()
        for q in 0..<queues {
            let got = nic.receiveAll(queue: q)
            #expect(got == expected[q], "queue \(q): \(got.count) frames, expected \(expected[q].count)")
            #expect(got.count >= ports.count / queues / 2, "queue \(q) carried \(got.count) of \(ports.count) flows")
        }
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    @Test func theModelHashesTCPAndIPv4AsTheVerificationSuiteDoes() throws {
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(rxQueues: 4, txQueues: 4))
        // The suite's first vector: 66.9.149.187:2794 → 161.142.100.80:1766.
        let tcp = ipv4Frame(protocolNumber: 6, source: [66, 9, 149, 187], destination: [161, 142, 100, 80],
                            sourcePort: 2794, destinationPort: 1766)
        #expect(nic.model.rssQueue(for: tcp).hash == 0x51cc_c178)
        // A fragment: addresses only.
        let fragment = ipv4Frame(protocolNumber: 6, source: [66, 9, 149, 187], destination: [161, 142, 100, 80],
                                 sourcePort: 2794, destinationPort: 1766, moreFragments: true)
        #expect(nic.model.rssQueue(for: fragment).hash == 0x323e_8fc2)
        // Not IP: no hash, RETA entry 0 (queue 0).
        #expect(nic.model.rssQueue(for: ixgbeFrame(1)) == (queue: 0, hash: 0))
        nic.device.shutdown()
    }

    /// Detached queue pairs: each receives its own flows, answers on its own TX ring, and
    /// counts in its own slot; the device traps on a detached queue, and gets them back.
    @Test func detachedQueuePairsCarryTheirOwnFlows() throws {
        let queues = 2
        var nic = try SimulatedIxgbeNIC(configuration: SimulatedIxgbeNIC.configuration(rxQueues: queues, txQueues: queues,
                                                                                        ringSize: 256))
        #expect(nic.device.maxQueuePairs == queues)
        let ports = (0..<64).map { UInt16(50000 + $0) }
        for port in ports { nic.model.inject(frame: udpFrame(sourcePort: port)) }
        nic.model.step()
        var user = EchoEachQueue()
        try nic.device.withDetachedQueues(&user)
        nic.model.step()
        for q in 0..<queues {
            let flows = ports.filter { expectedQueue(sourcePort: $0, queues: queues) == q }.count
            #expect(user.received[q] == flows)
            let s = nic.device.queueStatistics(q)
            #expect(s.rxPackets == UInt64(flows) && s.txPackets == UInt64(flows))
            #expect(s.rxBytes == UInt64(flows * 60))
        }
        #expect(nic.model.counters.txFrames == UInt64(ports.count))
        // Attached again: the device's own path works.
        nic.model.inject(frame: udpFrame(sourcePort: 1))
        nic.model.step()
        #expect(nic.receiveAll(queue: expectedQueue(sourcePort: 1, queues: queues)).count == 1)
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }

    struct EchoEachQueue: QueueSetUser {
        var received = [Int](repeating: 0, count: 2)
        mutating func use<D: MultiQueueDevice & ~Copyable, Q: QueuePair & ~Copyable>(device: inout D, queues: inout QueueSet<Q>) throws {
            for q in 0..<queues.count {
                let handle = queues.slot(q)
                #expect(handle.pointee.index == q)
                var batch = PacketBatch(capacity: 64)
                let n = handle.pointee.receive(into: &batch)
                received[q] = n
                #expect(handle.pointee.transmit(from: &batch) == n)
                // The queue's own interrupt bit.
                handle.pointee.enableInterrupt()
                handle.pointee.disableInterrupt()
            }
        }
    }
}

/// A 60-byte UDP/IPv4 frame from 198.51.100.7:`sourcePort` to 198.51.100.1:7, addressed to
/// the test NIC.
func udpFrame(sourcePort: UInt16) -> [UInt8] {
    ipv4Frame(protocolNumber: 17, source: IxgbeRSSTests.client, destination: IxgbeRSSTests.server,
              sourcePort: sourcePort, destinationPort: 7)
}

func ipv4Frame(protocolNumber: UInt8, source: [UInt8], destination: [UInt8], sourcePort: UInt16, destinationPort: UInt16,
               moreFragments: Bool = false) -> [UInt8] {
    var frame = SimulatedIxgbeNIC.defaultMAC.array + [0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
    frame += [0x45, 0, 0, 46, 0, 1, moreFragments ? 0x20 : 0x40, 0, 64, protocolNumber, 0, 0] + source + destination
    frame += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xff)]
    frame += [UInt8](repeating: 0, count: 60 - frame.count)
    return frame
}
