import PacketProcessing
import Testing
import UIO

/// The responder is not a reflector: a frame whose sender could not be one unicast host, or
/// a UDP datagram from a port that answers on its own, gets no reply and a named drop.
/// Frames are built byte by byte by `FrameBuilder`, independently of the responder.
@Suite struct SpoofedSourceTests {
    var responder = EchoResponder(mac: FrameBuilder.serverMAC, ip: IPv4Address(parsing: "192.0.2.2/24")!)
    typealias F = FrameBuilder

    static let groupMACs: [[UInt8]] = [
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],  // broadcast
        [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01],  // IPv4 multicast
        [0x33, 0x33, 0x00, 0x00, 0x00, 0x01],  // IPv6 multicast
        [0x03, 0xaa, 0xbb, 0xcc, 0xdd, 0xee],  // group bit on a locally administered address
        [0x00, 0x00, 0x00, 0x00, 0x00, 0x00],  // no station has it
    ]

    @Test(arguments: groupMACs)
    mutating func noReplyToAGroupSourceMACForARPICMPOrUDP(source: [UInt8]) {
        let arp = F.arpRequest(ethernetSource: source, senderMAC: source)
        let icmp = F.toServer(F.ipv4(protocol: 1, payload: F.icmpEcho(data: [1, 2, 3])), from: source)
        let udp = F.toServer(F.ipv4(protocol: 17, payload: F.udp(data: [4, 5, 6])), from: source)
        for frame in [arp, icmp, udp] {
            #expect(respond(&responder, frame).0 == .drop(.sourceMACNotUnicast))
        }
        #expect(responder.counters[.sourceMACNotUnicast] == 3)
        #expect(responder.counters.replies == 0)
    }

    @Test mutating func arpIsAnsweredOnlyWhenTheEthernetSourceIsTheSenderHardwareAddress() {
        let other: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
        #expect(respond(&responder, F.arpRequest(senderMAC: other)).0 == .drop(.arpBadSender))
        // A group sender hardware address behind a unicast Ethernet source.
        let multicast: [UInt8] = [0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]
        #expect(respond(&responder, F.arpRequest(senderMAC: multicast)).0 == .drop(.arpBadSender))
        #expect(respond(&responder, F.arpRequest(senderMAC: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).0 == .drop(.arpBadSender))
        #expect(responder.counters[.arpBadSender] == 3)
        #expect(responder.counters.replies == 0)
    }

    static let invalidSources: [[UInt8]] = [
        [0, 0, 0, 0], [0, 1, 2, 3],          // 0/8, "this network"
        [127, 0, 0, 1], [127, 9, 9, 9],      // loopback
        [224, 0, 0, 1], [239, 255, 255, 250],  // multicast
        [240, 0, 0, 1], [255, 255, 255, 255],  // reserved, limited broadcast
        [192, 0, 2, 2],                      // the server's own address
        [192, 0, 2, 255],                    // the directed broadcast of 192.0.2.0/24
        [192, 0, 2, 0],                      // its network address (obsolete broadcast form)
    ]

    @Test(arguments: invalidSources)
    mutating func noARPReplyToAnInvalidSenderProtocolAddress(sender: [UInt8]) {
        #expect(respond(&responder, F.arpRequest(senderIP: sender)).0 == .drop(.arpBadSender))
    }

    @Test(arguments: invalidSources)
    mutating func noICMPOrUDPReplyToAnIPv4SourceThatIsNotAUnicastHost(source: [UInt8]) {
        let icmp = F.toServer(F.ipv4(protocol: 1, payload: F.icmpEcho(data: [7]), src: source))
        let udp = F.toServer(F.ipv4(protocol: 17, payload: F.udp(data: [8], src: source), src: source))
        #expect(respond(&responder, icmp).0 == .drop(.ipBadSource))
        #expect(respond(&responder, udp).0 == .drop(.ipBadSource))
        #expect(responder.counters.replies == 0)
    }

    @Test mutating func theSubnetRulesFollowThePrefixGivenWithIP() {
        // In 192.0.2.0/24 .255 is the broadcast; in a /25 it is .127, and .255 is another net's host.
        var slash25 = EchoResponder(mac: F.serverMAC, ip: IPv4Address(parsing: "192.0.2.2/25")!)
        let from = { (source: [UInt8]) in F.toServer(F.ipv4(protocol: 1, payload: F.icmpEcho(data: []), src: source)) }
        #expect(respond(&slash25, from([192, 0, 2, 127])).0 == .drop(.ipBadSource))
        #expect(respond(&slash25, from([192, 0, 2, 255])).0 == .reply(length: 60))
        // A host address given without a prefix (/32) has no subnet broadcast to refuse.
        var slash32 = EchoResponder(mac: F.serverMAC, ip: IPv4Address(parsing: "192.0.2.2")!)
        #expect(respond(&slash32, from([192, 0, 2, 255])).0 == .reply(length: 60))
        #expect(respond(&slash32, from([192, 0, 2, 2])).0 == .drop(.ipBadSource))
        // Hosts at the edges of the /24 are fine.
        #expect(respond(&responder, from([192, 0, 2, 1])).0 == .reply(length: 60))
        #expect(respond(&responder, from([192, 0, 2, 254])).0 == .reply(length: 60))
        #expect(respond(&responder, from([198, 51, 100, 7])).0 == .reply(length: 60))
    }

    /// Echo 7, daytime 13, qotd 17, chargen 19, time 37, DNS 53, NTP 123, and the rest below 1024.
    @Test(arguments: [0, 1, 7, 13, 17, 19, 37, 53, 123, 1023])
    mutating func noUDPEchoToASourcePortBelow1024(port: Int) {
        let request = F.toServer(F.ipv4(protocol: 17, payload: F.udp(srcPort: port, data: [1, 2, 3, 4])))
        #expect(respond(&responder, request).0 == .drop(.udpReservedSourcePort))
        #expect(responder.counters[.udpReservedSourcePort] == 1)
    }

    @Test(arguments: [1024, 32768, 65535])
    mutating func udpEchoFromAnUnprivilegedSourcePort(port: Int) {
        let request = F.toServer(F.ipv4(protocol: 17, payload: F.udp(srcPort: port, data: [1, 2, 3, 4])))
        let (outcome, reply) = respond(&responder, request)
        #expect(outcome == .reply(length: 60))
        #expect(Int(reply[36]) << 8 | Int(reply[37]) == port)
    }

    /// IP options are dropped with their own reason, Record Route (`ping -R`) and Timestamp
    /// (`ping -T`) included: the README says so.
    @Test mutating func echoRequestsWithRecordRouteOrTimestampAreDroppedAsIPOptions() {
        let recordRoute: [UInt8] = [7, 39, 4] + [UInt8](repeating: 0, count: 36) + [1]  // RR, 9 slots, padded
        let timestamp: [UInt8] = [68, 12, 5, 0] + [UInt8](repeating: 0, count: 8)       // TS, 2 slots
        for options in [recordRoute, timestamp] {
            let ihl = UInt8(5 + options.count / 4)
            let request = F.toServer(F.ipv4(protocol: 1, payload: F.icmpEcho(data: [1, 2]), ihl: ihl, options: options))
            #expect(respond(&responder, request).0 == .drop(.ipOptions))
        }
        #expect(responder.counters[.ipOptions] == 2)
    }
}
