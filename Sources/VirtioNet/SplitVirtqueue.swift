import UIO

/// A split virtqueue in DMA memory (virtio 1.0 §2.4), laid out as legacy devices require:
/// the descriptor table, the available ring, then the used ring at the next 4096-byte boundary.
///
/// Buffers are posted as fixed chains of `chainLength` descriptors (1, or 2 when the
/// virtio-net header must have a descriptor of its own). Chain `c` starts at descriptor
/// `c × chainLength`, so the used ring's `id` leads straight back to the buffer.
public struct SplitVirtqueue {
    // Descriptor flags (virtio 1.0 §2.4.5) and ring flags (§2.4.6, §2.4.8).
    public static let descriptorNext: UInt16 = 1
    public static let descriptorWrite: UInt16 = 2
    public static let availableNoInterrupt: UInt16 = 1
    public static let usedNoNotify: UInt16 = 1

    public let size: Int
    public let chainLength: Int
    /// log2(chainLength): chain = descriptor id >> chainShift, without a division.
    @usableFromInline let chainShift: Int
    @usableFromInline let chainCount: Int
    @usableFromInline let mask: UInt16
    @usableFromInline let region: DMARegion
    @usableFromInline let descriptors: UnsafeMutableRawPointer
    @usableFromInline let available: UnsafeMutableRawPointer
    @usableFromInline let used: UnsafeMutableRawPointer
    /// The buffer posted in each chain, nil when the chain is free.
    @usableFromInline let buffers: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>?>
    @usableFromInline let freeChains: UnsafeMutablePointer<UInt16>
    @usableFromInline var freeCount: Int
    /// Our copy of `avail.idx`: the device only sees it when `publish()` stores it.
    @usableFromInline var availableIndex: UInt16 = 0
    @usableFromInline var lastUsedIndex: UInt16 = 0
    /// Byte offset in the notify window for this queue.
    public var notifyOffset = 0

    public var descriptorsPhysical: UInt64 { region.physicalAddress }
    public var availablePhysical: UInt64 { region.physicalAddress + UInt64(16 * size) }
    public var usedPhysical: UInt64 { region.physicalAddress + UInt64(Self.usedOffset(size: size)) }

    static func usedOffset(size: Int) -> Int {
        (16 * size + 6 + 2 * size + Virtio.LegacyRegister.queueAlignment - 1) & ~(Virtio.LegacyRegister.queueAlignment - 1)
    }

    static func bytes(size: Int) -> Int { usedOffset(size: size) + 6 + 8 * size }

    public init(size: Int, chainLength: Int, allocator: some DMAAllocator) throws {
        guard size >= 2, size <= 32768, size & (size - 1) == 0 else { throw UIOError.invalidRingSize(size, maximum: 32768) }
        self.size = size
        precondition(chainLength == 1 || chainLength == 2, "chains are one or two descriptors")
        self.chainLength = chainLength
        chainShift = chainLength == 2 ? 1 : 0
        chainCount = size / chainLength
        mask = UInt16(size - 1)
        region = try allocator.allocate(size: Self.bytes(size: size), contiguous: true)
        descriptors = region.virtualAddress
        available = region.virtualAddress + 16 * size
        used = region.virtualAddress + Self.usedOffset(size: size)
        let chains = size / chainLength
        buffers = .allocate(capacity: chains)
        buffers.initialize(repeating: nil, count: chains)
        freeChains = .allocate(capacity: chains)
        for c in 0..<chains { freeChains[c] = UInt16(chains - 1 - c) }
        freeCount = chains
        // Fixed links inside each chain.
        for c in 0..<chains {
            for d in 0..<(chainLength - 1) {
                let index = c * chainLength + d
                descriptor(index).storeBytes(of: UInt16(index + 1), toByteOffset: 14, as: UInt16.self)
            }
        }
    }

    /// Frees the ring memory and returns posted buffers to their pools. Only after a device reset.
    public func destroy(allocator: some DMAAllocator) {
        for c in 0..<chainCount { if let b = buffers[c] { Mempool.unsafeFree(b) } }
        buffers.deallocate()
        freeChains.deallocate()
        allocator.free(region)
    }

    @inlinable func descriptor(_ index: Int) -> UnsafeMutableRawPointer { descriptors + 16 &* index }

    /// Writes one descriptor: `struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; }`.
    @inlinable func setDescriptor(_ index: Int, address: UInt64, length: Int, flags: UInt16) {
        let d = descriptor(index)
        d.storeBytes(of: address, as: UInt64.self)
        d.storeBytes(of: UInt32(truncatingIfNeeded: length), toByteOffset: 8, as: UInt32.self)
        d.storeBytes(of: flags, toByteOffset: 12, as: UInt16.self)
    }

    @inlinable public var hasFreeChain: Bool { freeCount > 0 }

    /// Writes the fields of every descriptor that never change: the links inside chains, the
    /// flags, and (for RX, where every buffer has the same capacity) the lengths. The hot
    /// path then writes only addresses, and TX lengths.
    mutating func prepareDescriptors(headerLength: Int, rxDataLength: Int?) {
        let write = rxDataLength != nil ? Self.descriptorWrite : 0
        for c in 0..<chainCount {
            let head = c << chainShift
            if chainLength == 1 {
                setDescriptor(head, address: 0, length: headerLength + (rxDataLength ?? 0), flags: write)
            } else {
                setDescriptor(head, address: 0, length: headerLength, flags: write | Self.descriptorNext)
                setDescriptor(head + 1, address: 0, length: rxDataLength ?? 0, flags: write)
            }
        }
    }

    /// Posts buffers (RX) into free chains, up to `count` from `buffers`; returns how many.
    /// Only the addresses change: lengths and flags were written by `prepareDescriptors`.
    @inlinable mutating func postReceiveBuffers(_ fresh: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>, count: Int, headerLength: Int) {
        let shift = chainShift, free = freeChains, shadow = buffers, ring = available + 4, mask = mask
        let header = UInt64(truncatingIfNeeded: headerLength)
        var top = freeCount, index = availableIndex
        for i in 0..<count {
            let buffer = fresh[i]
            top &-= 1
            let chain = Int(truncatingIfNeeded: free[top])
            shadow[chain] = buffer
            let head = chain &<< shift
            let data = buffer.pointee.dataPhysicalAddress
            if shift == 0 {
                descriptor(head).storeBytes(of: data &- header, as: UInt64.self)
            } else {
                descriptor(head).storeBytes(of: data &- header, as: UInt64.self)
                descriptor(head &+ 1).storeBytes(of: data, as: UInt64.self)
            }
            ring.storeBytes(of: UInt16(truncatingIfNeeded: head), toByteOffset: 2 &* Int(index & mask), as: UInt16.self)
            index &+= 1
        }
        freeCount = top
        availableIndex = index
    }

    /// Posts the first `count` packets of `batch` (TX); returns the bytes queued. The
    /// virtio-net header (all zero: no offloads, virtio 1.0 §5.1.6.2) goes in each buffer's
    /// headroom, right before the frame.
    @inlinable mutating func postTransmitBuffers(from batch: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>>, count: Int, headerLength: Int) -> Int {
        let shift = chainShift, free = freeChains, shadow = buffers, ring = available + 4, mask = mask
        let header = UInt64(truncatingIfNeeded: headerLength)
        var top = freeCount, index = availableIndex, bytes = 0
        for i in 0..<count {
            let buffer = batch[i]
            top &-= 1
            let chain = Int(truncatingIfNeeded: free[top])
            shadow[chain] = buffer
            let head = chain &<< shift
            let data = PacketBufferHeader.data(buffer)
            // 12 zero bytes before the frame cover both header sizes (10 and 12).
            (data - 12).storeBytes(of: 0, as: UInt64.self)
            (data - 4).storeBytes(of: 0, as: UInt32.self)
            let length = buffer.pointee.length
            let physical = buffer.pointee.dataPhysicalAddress
            let d = descriptor(head)
            d.storeBytes(of: physical &- header, as: UInt64.self)
            if shift == 0 {
                d.storeBytes(of: length &+ UInt32(truncatingIfNeeded: headerLength), toByteOffset: 8, as: UInt32.self)
            } else {
                let frame = descriptor(head &+ 1)
                frame.storeBytes(of: physical, as: UInt64.self)
                frame.storeBytes(of: length, toByteOffset: 8, as: UInt32.self)
            }
            ring.storeBytes(of: UInt16(truncatingIfNeeded: head), toByteOffset: 2 &* Int(index & mask), as: UInt16.self)
            index &+= 1
            bytes &+= Int(truncatingIfNeeded: length)
        }
        freeCount = top
        availableIndex = index
        return bytes
    }

    /// Makes posted buffers visible to the device: descriptors first, then `avail.idx`.
    @inlinable func publish() {
        MemoryBarrier.write()
        Volatile.store16(available + 2, availableIndex)
    }

    /// Whether the device wants a notification (it has not set VRING_USED_F_NO_NOTIFY).
    /// The full barrier orders our `avail.idx` store before the flag load (virtio 1.0 §2.4.7.2).
    @inlinable func deviceWantsNotification() -> Bool {
        MemoryBarrier.full()
        return Volatile.load16(used) & Self.usedNoNotify == 0
    }

    /// Whether the device has returned buffers we have not taken yet.
    @inlinable public var hasUsed: Bool { Volatile.load16(used + 2) != lastUsedIndex }

    /// Takes up to `limit` used buffers. `consume(buffer, writtenBytes, position)` receives
    /// each; the chain is freed. A device that returns an id holding no buffer is a device
    /// bug: it is skipped rather than trusted.
    @inlinable mutating func takeUsed(limit: Int, _ consume: (UnsafeMutablePointer<PacketBufferHeader>, Int, Int) -> Void) -> Int {
        let end = Volatile.load16(used + 2)
        var last = lastUsedIndex
        if end == last { return 0 }
        MemoryBarrier.read()
        let shift = chainShift, shadow = buffers, free = freeChains, mask = mask, chains = chainCount
        var top = freeCount, taken = 0
        while last != end && taken < limit {
            let element = used + (4 &+ 8 &* Int(last & mask))
            let chain = Int(truncatingIfNeeded: element.load(as: UInt32.self)) &>> shift
            last &+= 1
            guard chain < chains, let buffer = shadow[chain] else { continue }
            shadow[chain] = nil
            free[top] = UInt16(truncatingIfNeeded: chain)
            top &+= 1
            consume(buffer, Int(truncatingIfNeeded: element.load(fromByteOffset: 4, as: UInt32.self)), taken)
            taken &+= 1
        }
        lastUsedIndex = last
        freeCount = top
        return taken
    }

    /// Sets or clears VRING_AVAIL_F_NO_INTERRUPT (virtio 1.0 §2.4.7).
    @inlinable func suppressInterrupts(_ suppress: Bool) {
        Volatile.store16(available, suppress ? Self.availableNoInterrupt : 0)
        MemoryBarrier.full()
    }
}

extension SplitVirtqueue {
    /// Posts one request made of several descriptors that use no packet buffer (control
    /// commands), starting at descriptor 0. Synchronous use only: one request at a time.
    mutating func postRequest(_ parts: [(address: UInt64, length: Int, deviceWritable: Bool)]) {
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            setDescriptor(i, address: part.address, length: part.length,
                          flags: (part.deviceWritable ? Self.descriptorWrite : 0) | (last ? 0 : Self.descriptorNext))
            descriptor(i).storeBytes(of: UInt16(last ? 0 : i + 1), toByteOffset: 14, as: UInt16.self)
        }
        available.storeBytes(of: 0, toByteOffset: 4 + 2 * Int(availableIndex & mask), as: UInt16.self)
        availableIndex &+= 1
        publish()
    }

    /// Consumes one used element of a request posted with `postRequest`.
    mutating func popRequest() -> Bool {
        guard hasUsed else { return false }
        MemoryBarrier.read()
        lastUsedIndex &+= 1
        return true
    }
}
