import UIO

/// Who may be answered. A reply goes to the sender's MAC and IP address, so the responder
/// answers only a sender that could be a single unicast host: anything else turns one
/// spoofed frame into a broadcast, a loop, or an attack on a third party.
extension EchoResponder {
    /// Whether the MAC at `offset` is one station's: the group bit (I/G, the least significant
    /// bit of the first octet, IEEE 802 §8.2) clear, and not all zeros, which no NIC has.
    static func isUnicastMAC(_ f: Frame, at offset: Int) -> Bool {
        guard f.u8(offset) & 1 == 0 else { return false }
        return (0..<6).contains { f.u8(offset + $0) != 0 }
    }

    /// Whether `address` may be the source of a packet we answer (RFC 1122 §3.2.1.3, and
    /// §3.3.6 for the all-zeros broadcast): not "this network" 0/8, not loopback 127/8, not
    /// multicast 224/4, not reserved 240/4 (which holds 255.255.255.255), not our own address,
    /// and, when `--ip` gave a prefix of /30 or shorter, not our subnet's broadcast address nor
    /// its network address (the obsolete broadcast form). /31 (RFC 3021) and /32 have neither.
    public func isUnicastHost(_ address: UInt32) -> Bool {
        let firstOctet = address >> 24
        if firstOctet == 0 || firstOctet == 127 || firstOctet >= 224 { return false }
        if address == ip.value { return false }
        if ip.prefixLength <= 30 {
            let hostMask: UInt32 = ip.prefixLength == 0 ? .max : (1 << (32 - UInt32(ip.prefixLength))) - 1
            let sameSubnet = address & ~hostMask == ip.value & ~hostMask
            if sameSubnet && (address & hostMask == hostMask || address & hostMask == 0) { return false }
        }
        return true
    }
}
