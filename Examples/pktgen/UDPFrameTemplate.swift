import UIO

/// The frame pktgen sends: Ethernet, IPv4 (checksum valid), UDP port 9 (discard) without a
/// checksum, and a 32-bit big-endian sequence number at the start of the payload.
struct UDPFrameTemplate {
    let bytes: [UInt8]
    static let sequenceOffset = 42

    init(size: Int, source: MACAddress, destination: MACAddress, sourceIP: UInt32, destinationIP: UInt32) {
        func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        func be32(_ v: UInt32) -> [UInt8] { be16(Int(v >> 16)) + be16(Int(v & 0xffff)) }
        let ipLength = size - 14
        var ip: [UInt8] = [0x45, 0] + be16(ipLength) + [0, 0, 0x40, 0, 64, 17, 0, 0] + be32(sourceIP) + be32(destinationIP)
        var sum = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += Int(ip[i]) << 8 | Int(ip[i + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        ip[10] = UInt8((~sum >> 8) & 0xff)
        ip[11] = UInt8(~sum & 0xff)
        let udp = be16(1024) + be16(9) + be16(ipLength - 20) + [0, 0]
        let header = destination.array + source.array + [0x08, 0x00] + ip + udp
        bytes = header + (0..<(size - header.count)).map { UInt8(truncatingIfNeeded: $0) }
    }

    func write(into packet: PacketView) {
        bytes.withUnsafeBytes { packet.data.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        packet.length = bytes.count
    }

    @inline(__always)
    static func setSequence(_ sequence: UInt32, in packet: PacketView) {
        packet.data.storeBytes(of: sequence.bigEndian, toByteOffset: sequenceOffset, as: UInt32.self)
    }
}
