/// The Toeplitz hash that receive-side scaling (RSS) uses to spread flows over queues, as
/// Microsoft's RSS specification defines it ("RSS hashing functions") and the 82599 (datasheet
/// §7.1.2.8) and the 82576 (datasheet §7.1.1.7) compute it in hardware.
///
/// For each bit of the input, most significant bit of the first byte first: if the bit is set,
/// the result is XORed with the 32 leftmost bits of the key, then the key is shifted left by
/// one bit. The 40-byte key covers inputs of up to 36 bytes (IPv6 with ports); the drivers
/// hash IPv4 (8 bytes: source, destination address) and IPv4 with TCP or UDP ports (12 bytes),
/// each field in network byte order as it sits in the packet.
///
/// Off the hot path: the NIC hashes; software hashes only to predict or check its choice
/// (the simulator's models, tests).
public struct ToeplitzHash: Sendable {
    /// The key as the NIC registers take it (RSSRK on Intel: key byte 0 in bits 7:0 of RSSRK[0]).
    public let key: [UInt8]

    /// The standard 40-byte key of Microsoft's RSS verification suite, which Intel's datasheets
    /// and Linux's ixgbe/igb (before random keys) use too. Any key works for spreading; this one
    /// lets a hash be checked against the published vectors.
    public static let standardKey: [UInt8] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ]

    /// `key` must be at least 4 bytes longer than the longest input hashed (40 bytes on the NICs).
    public init(key: [UInt8] = ToeplitzHash.standardKey) {
        precondition(key.count >= 4, "a Toeplitz key has at least 4 bytes")
        self.key = key
    }

    /// The hash of `input`, bytes in the order the specification lists them.
    public func hash(_ input: some Sequence<UInt8>) -> UInt32 {
        var result: UInt32 = 0
        // The 32-bit window on the key, and the key bits still to shift in.
        var window = UInt32(key[0]) << 24 | UInt32(key[1]) << 16 | UInt32(key[2]) << 8 | UInt32(key[3])
        var next = 4
        for byte in input {
            precondition(next <= key.count, "input longer than the key allows (\(key.count - 4) bytes)")
            let incoming = next < key.count ? key[next] : 0
            for bit in 0..<8 {
                if byte & (0x80 >> bit) != 0 { result ^= window }
                window = window << 1 | UInt32(incoming >> (7 - bit) & 1)
            }
            next += 1
        }
        return result
    }

    /// IPv4 2-tuple: source then destination address (RSS "IPv4" hash type).
    public func hashIPv4(source: [UInt8], destination: [UInt8]) -> UInt32 {
        precondition(source.count == 4 && destination.count == 4, "IPv4 addresses are 4 bytes")
        return hash(source + destination)
    }

    /// IPv4 4-tuple: source and destination address, then source and destination port
    /// (RSS "TcpIPv4" and, on Intel NICs, "UdpIPv4").
    public func hashIPv4(source: [UInt8], destination: [UInt8], sourcePort: UInt16, destinationPort: UInt16) -> UInt32 {
        precondition(source.count == 4 && destination.count == 4, "IPv4 addresses are 4 bytes")
        return hash(source + destination + [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff),
                                            UInt8(destinationPort >> 8), UInt8(destinationPort & 0xff)])
    }
}
