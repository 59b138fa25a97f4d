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
    /// Bytes of frame data starting at `dataOffset`, where only this package's drivers write
    /// it directly (receive); read it as `length`.
    @usableFromInline package var storedLength: UInt32
    /// Bytes of frame data the slot holds (its pool's buffer size less `dataOffset`), kept
    /// beside `length` so that a transmit path checks a frame against its own buffer with one
    /// compare on the same cache line, whichever pool the buffer came from.
    public let dataCapacity: UInt32

    /// Bytes of frame data starting at `dataOffset`. Never more than `dataCapacity`: an
    /// application sets it through `PacketBuffer.length` or `PacketView.length`, which
    /// check, and every transmit path checks it again before it reaches a descriptor (a
    /// length beyond the buffer would put the next buffer's bytes on the wire).
    @inlinable public var length: UInt32 { storedLength }

    package init(slotPhysicalAddress: UInt64, pool: UnsafeMutablePointer<MempoolStorage>, index: UInt32, dataCapacity: UInt32) {
        self.slotPhysicalAddress = slotPhysicalAddress
        self.pool = pool
        self.index = index
        self.storedLength = 0
        self.dataCapacity = dataCapacity
    }

    /// Where frame data starts within a slot.
    public static let dataOffset = 128

    @inlinable public static func data(_ header: UnsafeMutablePointer<PacketBufferHeader>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(header) + dataOffset
    }

    @inlinable public var dataPhysicalAddress: UInt64 { slotPhysicalAddress &+ UInt64(Self.dataOffset) }
}
