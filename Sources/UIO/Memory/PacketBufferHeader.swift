/// The header at the start of every packet buffer slot in DMA memory (as in ixy's `pkt_buf`).
///
/// Slot layout: this header, headroom up to `PacketBufferHeader.dataOffset`, then the frame.
/// The headroom lets a driver put a device header (virtio-net's 10 or 12 bytes) right before
/// the frame without copying it.
@frozen
public struct PacketBufferHeader {
    /// Physical address of the slot's first byte.
    public var slotPhysicalAddress: UInt64
    /// The `MempoolStorage` this buffer returns to.
    public var pool: UnsafeMutablePointer<MempoolStorage>
    public var index: UInt32
    /// Bytes of frame data starting at `dataOffset`.
    public var length: UInt32

    /// Where frame data starts within a slot.
    public static let dataOffset = 128

    @inlinable public static func data(_ header: UnsafeMutablePointer<PacketBufferHeader>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(header) + dataOffset
    }

    @inlinable public var dataPhysicalAddress: UInt64 { slotPhysicalAddress &+ UInt64(Self.dataOffset) }
}
