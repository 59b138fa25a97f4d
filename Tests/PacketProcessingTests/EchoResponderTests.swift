import PacketProcessing
import Testing
import UIO

@Suite struct EchoResponderTests {
    var responder = EchoResponder(mac: FrameBuilder.serverMAC, ip: IPv4Address(parsing: "192.0.2.2/24")!)
    typealias F = FrameBuilder

    @Test mutating func answersARPRequestForItsAddress() {
        let (outcome, reply) = respond(&responder, F.arpRequest())
        #expect(outcome == .reply(length: 60))
        let expected = F.hostMAC + F.serverMAC.array + [0x08, 0x06] + [0, 1, 8, 0, 6, 4, 0, 2]
            + F.serverMAC.array + F.serverIP + F.hostMAC + F.hostIP + [UInt8](repeating: 0, count: 18)
        #expect(reply == expected)
        #expect(responder.counters.arpReplies == 1)
    }

    @Test mutating func ignoresARPForOtherAddressesAndReplies() {
        #expect(respond(&responder, F.arpRequest(target: [192, 0, 2, 3])).0 == .drop(.arpOtherTarget))
        #expect(respond(&responder, F.arpRequest(op: 2)).0 == .drop(.arpNotRequest))
        #expect(responder.counters.replies == 0)
        #expect(responder.counters[.arpOtherTarget] == 1)
    }

    @Test(arguments: [0, 1, 56, 1472])
    mutating func answersICMPEchoOfAnySize(size: Int) {
        let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let request = F.toServer(F.ipv4(protocol: 1, payload: F.icmpEcho(data: data), ttl: 61))
        let (outcome, reply) = respond(&responder, request)
        let expected = F.ethernet(dst: F.hostMAC, src: F.serverMAC.array, type: 0x0800)
            + F.ipv4(protocol: 1, payload: F.icmpEcho(type: 0, data: data), src: F.serverIP, dst: F.hostIP, ttl: 64)
        let padded = expected + [UInt8](repeating: 0, count: max(0, 60 - expected.count))
        #expect(outcome == .reply(length: padded.count))
        #expect(reply == padded)
    }

    @Test(arguments: [0, 1, 100, 1472])
    mutating func echoesUDPPort7WithPortsSwapped(size: Int) {
        let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ 3) }
        let request = F.toServer(F.ipv4(protocol: 17, payload: F.udp(data: data)))
        let (_, reply) = respond(&responder, request)
        let expected = F.ethernet(dst: F.hostMAC, src: F.serverMAC.array, type: 0x0800)
            + F.ipv4(protocol: 17, payload: F.udp(srcPort: 7, dstPort: 40000, data: data, src: F.serverIP, dst: F.hostIP),
                     src: F.serverIP, dst: F.hostIP)
        #expect(reply == expected + [UInt8](repeating: 0, count: max(0, 60 - expected.count)))
        #expect(responder.counters.udpReplies == 1)
    }

    @Test mutating func acceptsUDPWithoutChecksum() {
        let request = F.toServer(F.ipv4(protocol: 17, payload: F.udp(data: [1, 2, 3], withChecksum: false)))
        #expect(respond(&responder, request).0 == .reply(length: 60))
    }

    @Test mutating func dropsMalformedFramesByReason() {
        let icmp = F.icmpEcho(data: [1, 2, 3, 4])
        var badIPChecksum = F.toServer(F.ipv4(protocol: 1, payload: icmp))
        badIPChecksum[24] ^= 0xff
        var badICMPChecksum = F.toServer(F.ipv4(protocol: 1, payload: icmp))
        badICMPChecksum[36] ^= 0x01
        var badUDPChecksum = F.toServer(F.ipv4(protocol: 17, payload: F.udp(data: [9, 9])))
        badUDPChecksum[40] ^= 0x01
        let totalPastFrame = Array(F.toServer(F.ipv4(protocol: 1, payload: icmp)).dropLast(2))
        var vlan = F.toServer(F.ipv4(protocol: 1, payload: icmp))
        vlan[12] = 0x81
        vlan[13] = 0x00
        let cases: [([UInt8], DropReason)] = [
            ([1, 2, 3], .runt),
            (F.ethernet(dst: [0x02, 1, 1, 1, 1, 1], type: 0x0800) + F.ipv4(protocol: 1, payload: icmp), .notForUs),
            (F.ethernet(dst: [0x01, 0, 0x5e, 0, 0, 1], type: 0x0800) + F.ipv4(protocol: 1, payload: icmp), .notForUs),
            (vlan, .vlanTagged),
            (F.ethernet(dst: F.serverMAC.array, type: 0x86dd) + [UInt8](repeating: 0, count: 46), .unsupportedEtherType),
            (F.toServer(F.ipv4(protocol: 1, payload: icmp, ihl: 4)), .ipBadHeader),
            (F.toServer(F.ipv4(protocol: 1, payload: icmp, ihl: 6, options: [1, 1, 1, 0])), .ipOptions),
            (totalPastFrame, .ipBadLength),
            (badIPChecksum, .ipBadChecksum),
            (F.toServer(F.ipv4(protocol: 1, payload: icmp, flags: 0x2000)), .ipFragment),
            (F.toServer(F.ipv4(protocol: 1, payload: icmp, flags: 0x0010)), .ipFragment),
            (F.toServer(F.ipv4(protocol: 1, payload: icmp, dst: [192, 0, 2, 9])), .ipOtherDestination),
            (F.toServer(F.ipv4(protocol: 1, payload: icmp, src: [255, 255, 255, 255])), .ipBadSource),
            (F.toServer(F.ipv4(protocol: 1, payload: [8, 0, 0])), .icmpMalformed),
            (badICMPChecksum, .icmpBadChecksum),
            (F.toServer(F.ipv4(protocol: 1, payload: F.icmpEcho(type: 0, data: []))), .icmpNotEchoRequest),
            (F.toServer(F.ipv4(protocol: 17, payload: F.udp(data: [1, 2], lengthField: 30))), .udpMalformed),
            (badUDPChecksum, .udpBadChecksum),
            (F.toServer(F.ipv4(protocol: 17, payload: F.udp(dstPort: 53, data: [1]))), .udpOtherPort),
            (F.toServer(F.ipv4(protocol: 6, payload: [UInt8](repeating: 0, count: 20))), .otherProtocol),
        ]
        for (frame, reason) in cases {
            let before = frame
            let (outcome, _) = respond(&responder, frame)
            #expect(outcome == .drop(reason), "expected \(reason) for \(before.prefix(40))")
        }
        #expect(responder.counters.replies == 0)
        #expect(responder.counters.dropped == UInt64(cases.count))
    }

    @Test func parsesAddresses() {
        #expect(IPv4Address(parsing: "192.0.2.2/24")?.prefixLength == 24)
        #expect(IPv4Address(parsing: "192.0.2.2")?.value == 0xc000_0202)
        for bad in ["192.0.2", "192.0.2.256", "a.b.c.d", "192.0.2.2/33", "1.2.3.4/x", ""] {
            #expect(IPv4Address(parsing: bad) == nil, "\(bad)")
        }
    }
}
