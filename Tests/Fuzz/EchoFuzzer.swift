// libFuzzer target for the echo server's frame parser and responder (EchoResponder).
//
// Built by scripts/fuzz with `swiftc -sanitize=fuzzer,address`, together with
// Sources/PacketProcessing/*.swift (not PcapWriter) and MACAddress.swift, as one module.
//
// Each input is answered three ways:
//   1. as is, in a buffer exactly as long as the frame: AddressSanitizer then catches any
//      read or write past the frame's end;
//   2. as is, in a 2,048-byte buffer (a mempool buffer's size), where replies may be padded;
//   3. with its IPv4 header, ICMP and UDP checksums made right first, so that mutations
//      get past the checksum checks and reach the code behind them.
// After each, the invariants below must hold, or the fuzzer stops with the input.

import UIO

let ourMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
let ourIP = IPv4Address(0xc000_0202, prefixLength: 24)  // 192.0.2.2/24

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    answer(Array(input), capacity: size)
    answer(Array(input), capacity: max(size, 2048))
    answer(withChecksumsFixed(Array(input)), capacity: max(size, 2048))
    return 0
}

/// Runs the responder on `frame` in a buffer of exactly `capacity` bytes and checks the reply.
func answer(_ frame: [UInt8], capacity: Int) {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
    defer { buffer.deallocate() }
    frame.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
    var responder = EchoResponder(mac: ourMAC, ip: ourIP)
    let outcome = responder.respond(to: buffer, length: frame.count, capacity: capacity)
    let counted = responder.counters.replies + responder.counters.dropped
    require(counted == 1, "one outcome must be counted once, got \(counted)")
    guard case .reply(let length) = outcome else { return }
    let reply = Array(UnsafeRawBufferPointer(start: buffer, count: length))
    checkReply(reply, request: frame, capacity: capacity)
}

func checkReply(_ r: [UInt8], request q: [UInt8], capacity: Int) {
    require(r.count <= capacity, "reply of \(r.count) bytes in a \(capacity)-byte buffer")
    require(r.count >= 42, "reply of \(r.count) bytes is shorter than any ARP or IPv4 reply")
    let toUs = Array(q[0..<6]) == ourMAC.array
    let broadcast = q[0..<6].allSatisfy { $0 == 0xff }
    require(toUs || broadcast, "replied to a frame for \(q[0..<6].map { hex($0, width: 2) })")
    require(Array(r[0..<6]) == Array(q[6..<12]), "reply not sent back to the requester's MAC")
    require(r[0] & 1 == 0 && r[0..<6].contains { $0 != 0 }, "reply sent to a group or zero MAC \(r[0..<6].map { hex($0, width: 2) })")
    require(Array(r[6..<12]) == ourMAC.array, "reply's source MAC is not ours")
    if capacity >= 60 { require(r.count >= 60, "reply of \(r.count) bytes not padded to 60") }
    switch be16(r, 12) {
    case 0x0806:
        require(be16(q, 12) == 0x0806, "ARP reply to a non-ARP frame")
        require(be16(r, 20) == 2, "ARP reply opcode \(be16(r, 20))")
        require(be16(q, 20) == 1, "ARP reply to something other than a request")
        require(be32(q, 38) == ourIP.value, "ARP reply for another address")
        require(Array(r[22..<28]) == ourMAC.array && be32(r, 28) == ourIP.value, "ARP reply's sender is not us")
        require(Array(r[32..<38]) == Array(q[22..<28]) && be32(r, 38) == be32(q, 28), "ARP reply's target is not the requester")
        require(Array(q[22..<28]) == Array(q[6..<12]), "ARP reply to a request whose sender hardware address is not its Ethernet source")
        require(isUnicastHostPer1122(be32(q, 28)), "ARP reply to sender address \(be32(q, 28))")
    case 0x0800:
        require(toUs, "IPv4 reply to a broadcast frame")
        require(r[14] == 0x45, "reply IP version/IHL \(r[14])")
        let total = Int(be16(r, 16))
        require(total >= 28 && 14 + total <= r.count, "reply IP total length \(total) in a \(r.count)-byte frame")
        require(sum(r, 14, 20) == 0xffff, "reply IP header checksum does not sum to 0xffff")
        require(be32(r, 26) == ourIP.value, "reply's source IP is not ours")
        require(be32(q, 30) == ourIP.value, "replied to an IP packet for another address")
        require(be32(r, 30) == be32(q, 26), "reply not sent back to the requester's IP")
        require(isUnicastHostPer1122(be32(r, 30)), "IPv4 reply to \(be32(r, 30)), which is not a unicast host")
        require(be16(r, 20) & 0x3fff == 0, "reply is a fragment")
        let payload = total - 20
        switch r[23] {
        case 1:
            require(r[34] == 0 && r[35] == 0, "ICMP reply type/code \(r[34])/\(r[35])")
            require(q[34] == 8 && q[35] == 0, "ICMP reply to type/code \(q[34])/\(q[35])")
            require(sum(r, 34, payload) == 0xffff, "ICMP reply checksum does not sum to 0xffff")
            require(Array(r[38..<(34 + payload)]) == Array(q[38..<(34 + payload)]), "ICMP reply changed the id, sequence or data")
        case 17:
            require(Int(be16(r, 38)) == payload, "UDP length \(be16(r, 38)) in an IP payload of \(payload)")
            require(be16(r, 34) == 7 && be16(q, 36) == 7, "UDP reply not from port 7")
            require(be16(r, 36) == be16(q, 34), "UDP reply not to the requester's port")
            require(be16(r, 36) >= 1024, "UDP reply to port \(be16(r, 36)), below 1024 (echo loops, amplification)")
            let pseudo = sum(r, 26, 8, initial: 17 + UInt32(payload))
            require(be16(r, 40) != 0 && sum(r, 34, payload, initial: pseudo) == 0xffff, "UDP reply checksum is wrong")
            require(Array(r[42..<(34 + payload)]) == Array(q[42..<(34 + payload)]), "UDP reply changed the data")
        default:
            require(false, "reply with IP protocol \(r[23])")
        }
    default:
        require(false, "reply with EtherType \(be16(r, 12))")
    }
}

/// Makes the IPv4 header checksum (and the ICMP or UDP one, when their lengths fit) right.
func withChecksumsFixed(_ input: [UInt8]) -> [UInt8] {
    var f = input
    guard f.count >= 34, be16(f, 12) == 0x0800 else { return f }
    let ihl = Int(f[14] & 0xf) * 4
    guard ihl >= 20, 14 + ihl <= f.count else { return f }
    f[24] = 0; f[25] = 0
    put16(&f, 24, ~UInt16(sum(f, 14, ihl)))
    let total = Int(be16(f, 16))
    guard total >= ihl, 14 + total <= f.count else { return f }
    let p = 14 + ihl, length = total - ihl
    if f[23] == 1, length >= 4 {
        f[p + 2] = 0; f[p + 3] = 0
        put16(&f, p + 2, ~UInt16(sum(f, p, length)))
    } else if f[23] == 17, length >= 8 {
        f[p + 6] = 0; f[p + 7] = 0
        var c = ~UInt16(sum(f, p, length, initial: sum(f, 26, 8, initial: 17 + UInt32(be16(f, p + 4)))))
        if c == 0 { c = 0xffff }
        put16(&f, p + 6, c)
    }
    return f
}

// MARK: Helpers (kept independent of InternetChecksum and SourceValidation, which are under test)

/// RFC 1122 §3.2.1.3, for 192.0.2.2/24: not 0/8, 127/8, 224/4, 240/4, ourselves, nor
/// 192.0.2.0 or 192.0.2.255.
func isUnicastHostPer1122(_ a: UInt32) -> Bool {
    let first = a >> 24
    return first != 0 && first != 127 && first < 224 && a != ourIP.value && a != 0xc000_02ff && a != 0xc000_0200
}

func be16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
func be32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(be16(b, at)) << 16 | UInt32(be16(b, at + 2)) }
func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { b[at] = UInt8(v >> 8); b[at + 1] = UInt8(v & 0xff) }

/// RFC 1071 ones' complement sum, folded to 16 bits.
func sum(_ b: [UInt8], _ at: Int, _ length: Int, initial: UInt32 = 0) -> UInt32 {
    var s = UInt64(initial)
    var i = 0
    while i + 1 < length { s += UInt64(b[at + i]) << 8 | UInt64(b[at + i + 1]); i += 2 }
    if i < length { s += UInt64(b[at + i]) << 8 }
    while s >> 16 != 0 { s = (s & 0xffff) + (s >> 16) }
    return UInt32(s)
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("EchoFuzzer invariant: " + message()) }
}
