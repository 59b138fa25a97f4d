import PacketProcessing
import UIO

/// Builds test frames byte by byte, independently of the code under test.
enum FrameBuilder {
    static let serverMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x50)
    static let hostMAC: [UInt8] = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]
    static let serverIP: [UInt8] = [192, 0, 2, 2]
    static let hostIP: [UInt8] = [192, 0, 2, 1]

    static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    /// RFC 1071 checksum, written the plain way.
    static func checksum(_ bytes: [UInt8]) -> [UInt8] {
        var sum = 0
        var i = 0
        while i < bytes.count {
            sum += Int(bytes[i]) << 8 + (i + 1 < bytes.count ? Int(bytes[i + 1]) : 0)
            i += 2
        }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return be16(~sum & 0xffff)
    }

    static func ethernet(dst: [UInt8], src: [UInt8] = hostMAC, type: Int) -> [UInt8] { dst + src + be16(type) }

    static func arpRequest(target: [UInt8] = serverIP, op: Int = 1, ethernetSource: [UInt8] = hostMAC,
                           senderMAC: [UInt8] = hostMAC, senderIP: [UInt8] = hostIP) -> [UInt8] {
        ethernet(dst: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], src: ethernetSource, type: 0x0806)
            + be16(1) + be16(0x0800) + [6, 4] + be16(op) + senderMAC + senderIP + [0, 0, 0, 0, 0, 0] + target
            + [UInt8](repeating: 0, count: 18)
    }

    static func ipv4(protocol proto: UInt8, payload: [UInt8], src: [UInt8] = hostIP, dst: [UInt8] = serverIP,
                     ttl: UInt8 = 64, flags: Int = 0x4000, ihl: UInt8 = 5, options: [UInt8] = []) -> [UInt8] {
        var header = [0x40 | ihl, 0] + be16(20 + options.count + payload.count) + be16(0x1234) + be16(flags)
            + [ttl, proto, 0, 0] + src + dst + options
        let c = checksum(header)
        header[10] = c[0]
        header[11] = c[1]
        return header + payload
    }

    static func icmpEcho(type: UInt8 = 8, id: Int = 0x77, seq: Int = 1, data: [UInt8]) -> [UInt8] {
        var icmp = [type, 0, 0, 0] + be16(id) + be16(seq) + data
        let c = checksum(icmp)
        icmp[2] = c[0]
        icmp[3] = c[1]
        return icmp
    }

    static func udp(srcPort: Int = 40000, dstPort: Int = 7, data: [UInt8], src: [UInt8] = hostIP, dst: [UInt8] = serverIP,
                    lengthField: Int? = nil, withChecksum: Bool = true) -> [UInt8] {
        var u = be16(srcPort) + be16(dstPort) + be16(lengthField ?? 8 + data.count) + [0, 0] + data
        if withChecksum {
            var c = checksum(src + dst + [0, 17] + be16(8 + data.count) + u)
            if c == [0, 0] { c = [0xff, 0xff] }
            u[6] = c[0]
            u[7] = c[1]
        }
        return u
    }

    static func toServer(_ ip: [UInt8], from source: [UInt8] = hostMAC) -> [UInt8] {
        ethernet(dst: serverMAC.array, src: source, type: 0x0800) + ip
    }
}

/// Runs the responder on a copy of `frame` in a 2 KiB buffer; returns the outcome and bytes.
func respond(_ responder: inout EchoResponder, _ frame: [UInt8]) -> (EchoResponder.Outcome, [UInt8]) {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 64)
    defer { buffer.deallocate() }
    buffer.copyMemory(from: frame, byteCount: frame.count)
    let outcome = responder.respond(to: buffer, length: frame.count, capacity: 2048)
    if case .reply(let length) = outcome {
        return (outcome, Array(UnsafeRawBufferPointer(start: buffer, count: length)))
    }
    return (outcome, [])
}
