import UIO

/// The echo server's packet logic: answers ARP requests for its address, ICMP echo requests
/// and UDP echo (port 7, RFC 862), rewriting each frame in place into its reply.
///
/// It trusts nothing: every length and header field is checked against the frame before it
/// is used, and anything inconsistent is dropped and counted by reason. It is not a reflector
/// either: a reply goes back to the sender, so a frame whose sender could not be a single
/// unicast host (see `SourceValidation.swift`) gets none, nor does a UDP datagram from a port
/// below 1024, where the services that answer on their own live.
public struct EchoResponder: Sendable {
    public let mac: MACAddress
    public let ip: IPv4Address
    public static let udpEchoPort: UInt16 = 7
    /// UDP datagrams from source ports below this get no echo. Port 0 is not a valid source,
    /// and the well-known ports hold the services that answer any datagram on their own
    /// (echo 7, daytime 13, qotd 17, chargen 19, time 37, DNS 53, NTP 123, ...): echoing to
    /// one of them starts a loop between two servers, or amplifies a spoofed request.
    /// Real clients send from ephemeral ports (Linux: 32768–60999; IANA: 49152–65535).
    public static let lowestUDPSourcePortAnswered: UInt16 = 1024
    public var counters = EchoCounters()

    public init(mac: MACAddress, ip: IPv4Address) {
        self.mac = mac
        self.ip = ip
    }

    // Offsets (Ethernet II, RFC 826, RFC 791, RFC 792, RFC 768).
    static let ethernetHeader = 14
    static let minimumFrame = 60
    static let etherTypeIPv4: UInt16 = 0x0800
    static let etherTypeARP: UInt16 = 0x0806
    static let etherTypeVLAN: UInt16 = 0x8100

    /// What to do with the frame: send the reply now in it, or drop it (and why).
    public enum Outcome: Equatable, Sendable {
        /// The frame now holds the reply, `length` bytes long: send it.
        case reply(length: Int)
        case drop(DropReason)
    }

    /// Turns the frame at `frame` (`length` bytes, in a buffer of `capacity` bytes) into its
    /// reply, or says why not. Counts the outcome.
    public mutating func respond(to frame: UnsafeMutableRawPointer, length: Int, capacity: Int) -> Outcome {
        let outcome = process(Frame(frame), length: length, capacity: capacity)
        switch outcome {
        case .drop(let reason): counters.drops[reason.rawValue] += 1
        case .reply:
            let f = Frame(frame)
            if f.u16(12) == Self.etherTypeARP { counters.arpReplies += 1 }
            else if f.u8(Self.ethernetHeader + 9) == 1 { counters.icmpReplies += 1 }
            else { counters.udpReplies += 1 }
        }
        return outcome
    }

    func process(_ f: Frame, length: Int, capacity: Int) -> Outcome {
        guard length >= Self.ethernetHeader else { return .drop(.runt) }
        let etherType = f.u16(12)
        let toUs = isOurMAC(f, at: 0)
        let broadcast = (0..<6).allSatisfy { f.u8($0) == 0xff }
        guard toUs || broadcast else { return .drop(.notForUs) }
        // Every reply goes to the frame's source MAC: a group address there would make one
        // spoofed frame flood the segment.
        guard Self.isUnicastMAC(f, at: 6) else { return .drop(.sourceMACNotUnicast) }
        switch etherType {
        case Self.etherTypeARP: return arp(f, length: length, capacity: capacity)
        case Self.etherTypeIPv4 where toUs: return ipv4(f, length: length, capacity: capacity)
        case Self.etherTypeIPv4: return .drop(.notForUs)
        case Self.etherTypeVLAN: return .drop(.vlanTagged)
        default: return .drop(.unsupportedEtherType)
        }
    }

    func isOurMAC(_ f: Frame, at offset: Int) -> Bool {
        let m = mac.bytes
        return f.u8(offset) == m.0 && f.u8(offset + 1) == m.1 && f.u8(offset + 2) == m.2
            && f.u8(offset + 3) == m.3 && f.u8(offset + 4) == m.4 && f.u8(offset + 5) == m.5
    }

    /// Source MAC becomes destination, ours becomes source.
    func writeEthernetReply(_ f: Frame) {
        f.copy(from: 6, to: 0, count: 6)
        let m = mac.array
        for i in 0..<6 { f.set8(6 + i, m[i]) }
    }

    /// Pads short replies to the 60-byte Ethernet minimum (without FCS).
    func padded(_ f: Frame, _ length: Int, capacity: Int) -> Outcome {
        guard length <= capacity else { return .drop(.tooLargeForBuffer) }
        if length < Self.minimumFrame && capacity >= Self.minimumFrame {
            for i in length..<Self.minimumFrame { f.set8(i, 0) }
            return .reply(length: Self.minimumFrame)
        }
        return .reply(length: length)
    }

    // MARK: ARP (RFC 826)

    func arp(_ f: Frame, length: Int, capacity: Int) -> Outcome {
        let a = Self.ethernetHeader
        guard length >= a + 28 else { return .drop(.arpMalformed) }
        guard f.u16(a) == 1, f.u16(a + 2) == Self.etherTypeIPv4, f.u8(a + 4) == 6, f.u8(a + 5) == 4 else {
            return .drop(.arpMalformed)
        }
        guard f.u16(a + 6) == 1 else { return .drop(.arpNotRequest) }
        guard f.u32(a + 24) == ip.value else { return .drop(.arpOtherTarget) }
        // The reply's Ethernet destination is the frame's source, and its ARP target is the
        // sender hardware address: they must be the same unicast MAC, or a spoofed sender
        // field sends our answer (and poisons a cache) somewhere the requester is not. RFC 826
        // allows them to differ (proxy and bridge cases), but an echo server serves neither.
        // Note: an ARP probe (RFC 5227, sender 0.0.0.0) is therefore not answered either.
        guard (0..<6).allSatisfy({ f.u8(a + 8 + $0) == f.u8(6 + $0) }) else { return .drop(.arpBadSender) }
        guard isUnicastHost(f.u32(a + 14)) else { return .drop(.arpBadSender) }
        // Reply: target = the sender; sender = us.
        f.set16(a + 6, 2)
        f.copy(from: a + 8, to: a + 18, count: 10)
        let m = mac.array
        for i in 0..<6 { f.set8(a + 8 + i, m[i]) }
        f.set32(a + 14, ip.value)
        writeEthernetReply(f)
        return padded(f, a + 28, capacity: capacity)
    }

    // MARK: IPv4 (RFC 791)

    func ipv4(_ f: Frame, length: Int, capacity: Int) -> Outcome {
        let i = Self.ethernetHeader
        guard length >= i + 20 else { return .drop(.runt) }
        let versionIHL = f.u8(i)
        guard versionIHL >> 4 == 4, versionIHL & 0xf >= 5 else { return .drop(.ipBadHeader) }
        guard versionIHL & 0xf == 5 else { return .drop(.ipOptions) }
        let totalLength = Int(f.u16(i + 2))
        guard totalLength >= 20, i + totalLength <= length else { return .drop(.ipBadLength) }
        guard InternetChecksum.sum(f.base + i, 20) == 0xffff else { return .drop(.ipBadChecksum) }
        let fragment = f.u16(i + 6)
        guard fragment & 0x3fff == 0 else { return .drop(.ipFragment) }  // MF set or an offset
        guard f.u32(i + 16) == ip.value else { return .drop(.ipOtherDestination) }
        guard isUnicastHost(f.u32(i + 12)) else { return .drop(.ipBadSource) }
        let payload = i + 20
        let payloadLength = totalLength - 20
        switch f.u8(i + 9) {
        case 1: return icmp(f, payload: payload, length: payloadLength, totalLength: totalLength, capacity: capacity)
        case 17: return udp(f, payload: payload, length: payloadLength, totalLength: totalLength, capacity: capacity)
        default: return .drop(.otherProtocol)
        }
    }

    /// Swaps addresses, resets TTL and the checksum of the IP header.
    func writeIPv4Reply(_ f: Frame) {
        let i = Self.ethernetHeader
        f.swap(i + 12, i + 16, count: 4)
        f.set8(i + 8, 64)
        f.set16(i + 10, 0)
        f.set16(i + 10, InternetChecksum.compute(f.base + i, 20))
        writeEthernetReply(f)
    }

    // MARK: ICMP echo (RFC 792)

    func icmp(_ f: Frame, payload p: Int, length: Int, totalLength: Int, capacity: Int) -> Outcome {
        guard length >= 8 else { return .drop(.icmpMalformed) }
        guard InternetChecksum.sum(f.base + p, length) == 0xffff else { return .drop(.icmpBadChecksum) }
        guard f.u8(p) == 8, f.u8(p + 1) == 0 else { return .drop(.icmpNotEchoRequest) }
        f.set8(p, 0)
        f.set16(p + 2, 0)
        f.set16(p + 2, InternetChecksum.compute(f.base + p, length))
        writeIPv4Reply(f)
        return padded(f, Self.ethernetHeader + totalLength, capacity: capacity)
    }

    // MARK: UDP echo (RFC 768, RFC 862)

    func udp(_ f: Frame, payload u: Int, length: Int, totalLength: Int, capacity: Int) -> Outcome {
        guard length >= 8, Int(f.u16(u + 4)) == length else { return .drop(.udpMalformed) }
        let i = Self.ethernetHeader
        if f.u16(u + 6) != 0 {
            guard InternetChecksum.sum(f.base + u, length, initial: pseudoHeaderSum(f, udpLength: length)) == 0xffff else {
                return .drop(.udpBadChecksum)
            }
        }
        guard f.u16(u + 2) == Self.udpEchoPort else { return .drop(.udpOtherPort) }
        guard f.u16(u) >= Self.lowestUDPSourcePortAnswered else { return .drop(.udpReservedSourcePort) }
        f.swap(u, u + 2, count: 2)
        f.swap(i + 12, i + 16, count: 4)  // the pseudo-header uses the reply's addresses
        f.set16(u + 6, 0)
        var checksum = InternetChecksum.compute(f.base + u, length, initial: pseudoHeaderSum(f, udpLength: length))
        if checksum == 0 { checksum = 0xffff }  // 0 means "no checksum" in UDP
        f.set16(u + 6, checksum)
        f.swap(i + 12, i + 16, count: 4)  // writeIPv4Reply swaps them again
        writeIPv4Reply(f)
        return padded(f, i + totalLength, capacity: capacity)
    }

    /// Source, destination, zero, protocol 17, UDP length.
    func pseudoHeaderSum(_ f: Frame, udpLength: Int) -> UInt32 {
        let i = Self.ethernetHeader
        return InternetChecksum.sum(f.base + i + 12, 8, initial: 17 + UInt32(udpLength))
    }
}
