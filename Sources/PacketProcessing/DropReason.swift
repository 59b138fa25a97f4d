/// Why the echo responder dropped a frame. Each class has its own counter.
public enum DropReason: Int, CaseIterable, Sendable, CustomStringConvertible {
    case runt, notForUs, vlanTagged, unsupportedEtherType, sourceMACNotUnicast
    case arpMalformed, arpNotRequest, arpOtherTarget, arpBadSender
    case ipBadHeader, ipOptions, ipBadLength, ipBadChecksum, ipFragment, ipOtherDestination, ipBadSource
    case icmpMalformed, icmpBadChecksum, icmpNotEchoRequest
    case udpMalformed, udpBadChecksum, udpOtherPort, udpReservedSourcePort
    case otherProtocol, tooLargeForBuffer

    public var description: String {
        switch self {
        case .runt: return "runt"
        case .notForUs: return "not-for-us"
        case .vlanTagged: return "vlan-tagged"
        case .unsupportedEtherType: return "ethertype"
        case .sourceMACNotUnicast: return "src-mac-not-unicast"
        case .arpMalformed: return "arp-malformed"
        case .arpNotRequest: return "arp-not-request"
        case .arpOtherTarget: return "arp-other-target"
        case .arpBadSender: return "arp-bad-sender"
        case .ipBadHeader: return "ip-bad-header"
        case .ipOptions: return "ip-options"
        case .ipBadLength: return "ip-bad-length"
        case .ipBadChecksum: return "ip-bad-checksum"
        case .ipFragment: return "ip-fragment"
        case .ipOtherDestination: return "ip-other-destination"
        case .ipBadSource: return "ip-bad-source"
        case .icmpMalformed: return "icmp-malformed"
        case .icmpBadChecksum: return "icmp-bad-checksum"
        case .icmpNotEchoRequest: return "icmp-not-echo-request"
        case .udpMalformed: return "udp-length-mismatch"
        case .udpBadChecksum: return "udp-bad-checksum"
        case .udpOtherPort: return "udp-other-port"
        case .udpReservedSourcePort: return "udp-src-port-below-1024"
        case .otherProtocol: return "ip-protocol"
        case .tooLargeForBuffer: return "too-large"
        }
    }
}

/// Counts of what the echo responder did.
public struct EchoCounters: Sendable, Equatable {
    public var arpReplies: UInt64 = 0
    public var icmpReplies: UInt64 = 0
    public var udpReplies: UInt64 = 0
    public var drops = [UInt64](repeating: 0, count: DropReason.allCases.count)

    public init() {}

    public var replies: UInt64 { arpReplies + icmpReplies + udpReplies }
    public var dropped: UInt64 { drops.reduce(0, +) }
    public subscript(reason: DropReason) -> UInt64 { drops[reason.rawValue] }

    /// `arp=1 icmp=2 udp=3 dropped=4 (runt=1 ip-fragment=3)`
    public var summary: String {
        let detail = DropReason.allCases.filter { drops[$0.rawValue] > 0 }.map { "\($0)=\(drops[$0.rawValue])" }
        return "arp=\(arpReplies) icmp=\(icmpReplies) udp=\(udpReplies) dropped=\(dropped)" + (detail.isEmpty ? "" : " (" + detail.joined(separator: " ") + ")")
    }
}
