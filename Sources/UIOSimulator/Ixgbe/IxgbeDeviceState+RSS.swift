import UIO

/// Receive-side scaling as the 82599 does it (datasheet §7.1.2.8): with MRQC.MRQE = RSS, the
/// Toeplitz hash of the fields MRQC enables, keyed by RSSRK, indexes the 128-entry RETA with
/// its 7 low bits, and the entry's bits 3:0 name the RX queue. A frame RSS does not hash
/// (not IPv4, or a type MRQC leaves out) gets hash 0, hence RETA entry 0's queue; with MRQC
/// off every frame goes to queue 0.
extension IxgbeDeviceState {
    /// The RX queue for a frame arriving from the wire, and the hash RSS computed (0 if none).
    func rssQueue(for frame: [UInt8]) -> (queue: Int, hash: UInt32) {
        let mrqc = register(L.MRQC)
        guard mrqc & L.MRQC_MRQE_MASK == L.MRQC_MRQE_RSS else { return (0, 0) }
        let hash = rssInput(frame, mrqc: mrqc).map { ToeplitzHash(key: rssKey).hash($0) } ?? 0
        let index = Int(hash & 0x7F)
        let entry = register(L.RETA(index / 4)) >> UInt32(8 * (index % 4))
        return (Int(entry & 0x0F), hash)
    }

    /// RSSRK as bytes: key byte 4n + i in bits 8i+7:8i of RSSRK[n].
    var rssKey: [UInt8] {
        (0..<40).map { UInt8(truncatingIfNeeded: register(L.RSSRK($0 / 4)) >> UInt32(8 * ($0 % 4))) }
    }

    /// The bytes RSS hashes (§7.1.2.8.1): IPv4 source and destination addresses, then the
    /// TCP or UDP source and destination ports when MRQC enables that protocol and the
    /// datagram is not a fragment. Untagged Ethernet II frames only; nil: not hashed.
    func rssInput(_ frame: [UInt8], mrqc: UInt32) -> [UInt8]? {
        guard frame.count >= 34, frame[12] == 0x08, frame[13] == 0x00, frame[14] >> 4 == 4 else { return nil }
        let headerLength = Int(frame[14] & 0x0F) * 4
        let addresses = Array(frame[26..<34])
        let fragment = (UInt16(frame[20]) << 8 | UInt16(frame[21])) & 0x3FFF != 0  // MF or an offset
        let protocolNumber = frame[23]
        let portsEnabled = (protocolNumber == 6 && mrqc & L.MRQC_TCPIPV4 != 0)
            || (protocolNumber == 17 && mrqc & L.MRQC_UDPIPV4 != 0)
        if portsEnabled, !fragment, headerLength >= 20, frame.count >= 14 + headerLength + 4 {
            let l4 = 14 + headerLength
            return addresses + frame[l4..<(l4 + 4)]
        }
        return mrqc & L.MRQC_IPV4 != 0 ? addresses : nil
    }
}
