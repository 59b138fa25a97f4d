/// One packet buffer, owned. It cannot be copied, so it cannot be freed twice or used after
/// it has been handed to a transmit call; dropping it returns it to its pool.
@frozen
public struct PacketBuffer: ~Copyable {
    public let header: UnsafeMutablePointer<PacketBufferHeader>

    @inlinable public init(unsafeHeader header: UnsafeMutablePointer<PacketBufferHeader>) {
        self.header = header
    }

    @inlinable deinit { Mempool.unsafeFree(header) }

    /// Gives up ownership without freeing: the caller now owns the header.
    @inlinable public consuming func unsafeReleaseHeader() -> UnsafeMutablePointer<PacketBufferHeader> {
        let header = self.header
        discard self
        return header
    }

    @inlinable public var view: PacketView { PacketView(header: header) }
    @inlinable public var data: UnsafeMutableRawPointer { PacketBufferHeader.data(header) }
    /// Bytes of frame data. Setting it past `capacity` (or below 0) traps, as an array
    /// subscript does: a length beyond the buffer would send the next buffer's bytes.
    @inlinable public var length: Int {
        get { Int(header.pointee.length) }
        nonmutating set { view.length = newValue }
    }
    /// Bytes of frame data the buffer holds.
    @inlinable public var capacity: Int { view.capacity }
    @inlinable public var bytes: UnsafeMutableRawBufferPointer { view.bytes }
}

/// A borrowed view of a packet's data. It does not own the buffer: use it only while the
/// batch or buffer it came from still holds the packet.
@frozen
public struct PacketView {
    public let header: UnsafeMutablePointer<PacketBufferHeader>

    @inlinable public init(header: UnsafeMutablePointer<PacketBufferHeader>) { self.header = header }

    @inlinable public var data: UnsafeMutableRawPointer { PacketBufferHeader.data(header) }
    /// Bytes of frame data. Setting it past `capacity` (or below 0) traps, as an array
    /// subscript does: a length beyond the buffer would send the next buffer's bytes.
    @inlinable public var length: Int {
        get { Int(header.pointee.length) }
        nonmutating set {
            precondition(newValue >= 0 && newValue <= capacity,
                         "packet length \(newValue) is outside the buffer's 0...\(capacity) bytes")
            header.pointee.storedLength = UInt32(truncatingIfNeeded: newValue)
        }
    }
    /// Bytes of frame data the buffer holds.
    @inlinable public var capacity: Int { Int(header.pointee.dataCapacity) }
    @inlinable public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: data, count: length) }
    @inlinable public var physicalAddress: UInt64 { header.pointee.dataPhysicalAddress }
}
