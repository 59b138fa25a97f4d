import Testing
import UIO

/// The RSS verification suite: Microsoft, "Verifying the RSS Hash Calculation"
/// (https://learn.microsoft.com/windows-hardware/drivers/network/verifying-the-rss-hash-calculation),
/// reproduced in the Intel 82599 datasheet §7.1.2.8.3 "RSS Verification Suite" and in DPDK's
/// app/test/test_thash.c. The key is the suite's 40-byte key (6d5a56da 255b0ec2 ...).
/// Columns: source address:port, destination address:port, IPv4 hash, IPv4-with-TCP hash.
struct ToeplitzHashTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let source: [UInt8], sourcePort: UInt16
        let destination: [UInt8], destinationPort: UInt16
        let ipv4: UInt32, ipv4TCP: UInt32
        var testDescription: String { "\(source):\(sourcePort) → \(destination):\(destinationPort)" }
    }

    static let vectors: [Vector] = [
        Vector(source: [66, 9, 149, 187], sourcePort: 2794, destination: [161, 142, 100, 80], destinationPort: 1766,
               ipv4: 0x323e_8fc2, ipv4TCP: 0x51cc_c178),
        Vector(source: [199, 92, 111, 2], sourcePort: 14230, destination: [65, 69, 140, 83], destinationPort: 4739,
               ipv4: 0xd718_262a, ipv4TCP: 0xc626_b0ea),
        Vector(source: [24, 19, 198, 95], sourcePort: 12898, destination: [12, 22, 207, 184], destinationPort: 38024,
               ipv4: 0xd2d0_a5de, ipv4TCP: 0x5c2b_394a),
        Vector(source: [38, 27, 205, 30], sourcePort: 48228, destination: [209, 142, 163, 6], destinationPort: 2217,
               ipv4: 0x8298_9176, ipv4TCP: 0xafc7_327f),
        Vector(source: [153, 39, 163, 191], sourcePort: 44251, destination: [202, 188, 127, 2], destinationPort: 1303,
               ipv4: 0x5d18_09c5, ipv4TCP: 0x10e8_28a2),
    ]

    @Test(arguments: vectors)
    func ipv4(_ v: Vector) {
        #expect(ToeplitzHash().hashIPv4(source: v.source, destination: v.destination) == v.ipv4)
    }

    @Test(arguments: vectors)
    func ipv4WithPorts(_ v: Vector) {
        let h = ToeplitzHash().hashIPv4(source: v.source, destination: v.destination,
                                        sourcePort: v.sourcePort, destinationPort: v.destinationPort)
        #expect(h == v.ipv4TCP)
    }

    @Test func emptyInputHashesToZero() {
        #expect(ToeplitzHash().hash([UInt8]()) == 0)
    }
}
