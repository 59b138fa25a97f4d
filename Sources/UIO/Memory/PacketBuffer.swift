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
    @inlinable public var length: Int {
        get { Int(header.pointee.length) }
        nonmutating set { header.pointee.length = UInt32(newValue) }
    }
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
    @inlinable public var length: Int {
        get { Int(header.pointee.length) }
        nonmutating set {
            precondition(newValue >= 0 && newValue <= capacity, "packet length \(newValue) exceeds the buffer")
            header.pointee.length = UInt32(newValue)
        }
    }
    @inlinable public var capacity: Int { header.pointee.pool.pointee.bufferSize - PacketBufferHeader.dataOffset }
    @inlinable public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: data, count: length) }
    @inlinable public var physicalAddress: UInt64 { header.pointee.dataPhysicalAddress }
}
