/// The longest frames standard Ethernet carries, as drivers see them: without the 4-byte FCS,
/// which NICs strip. IEEE 802.3 §3.2.7 and §4.4.2: maxUntaggedFrameSize is 1518 bytes with
/// the FCS; an 802.1Q tag adds 4 (1522).
///
/// A device that delivers a longer frame (QEMU's virtio-net hands over anything that fits the
/// posted buffer) gives the application a frame no standard host on the segment may send, and
/// whose echo or forwarded copy would be a giant on the next link. Drivers drop such frames
/// and count them in `DeviceStatistics.rxOversize`, as Linux's virtio_net does
/// (`rx_length_errors` above GOOD_PACKET_LEN) and an 82599 without jumbo frames does (ROC).
public enum EthernetFrame {
    /// Destination, source, EtherType and 1500 bytes of payload.
    public static let maxUntaggedLength = 1514
    /// The same with one 802.1Q tag.
    public static let maxTaggedLength = 1518
    /// 802.1Q's Tag Protocol Identifier, where an untagged frame has its EtherType.
    public static let tagProtocolID: UInt16 = 0x8100

    /// Whether a received frame of `length` bytes at `data` is longer than Ethernet allows:
    /// over 1518 bytes, or over 1514 without an 802.1Q tag. Reads bytes 12 and 13 only for
    /// lengths between the two, so the common case is one comparison.
    @inlinable @inline(__always)
    public static func isOversize(_ data: UnsafeRawPointer, length: Int) -> Bool {
        if _fastPath(length <= maxUntaggedLength) { return false }
        if length > maxTaggedLength { return true }
        let tpid = UInt16(data.load(fromByteOffset: 12, as: UInt8.self)) << 8 | UInt16(data.load(fromByteOffset: 13, as: UInt8.self))
        return tpid != tagProtocolID
    }
}
