/// The state of a `Mempool`, kept in plain malloc'd memory so that no reference counting
/// is involved anywhere on the packet path.
///
/// The free stack, `count` buffer pointers, follows this struct in the same allocation (as
/// ixy's flexible array member): freeing a buffer finds it from the pool pointer alone.
public struct MempoolStorage {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var bufferSize: Int
    @usableFromInline var count: Int
    @usableFromInline var freeCount: Int
    @usableFromInline var region: DMARegion
}

extension UnsafeMutablePointer where Pointee == MempoolStorage {
    /// A LIFO of free buffers (as ixy's, which keeps indices: pointers spare the multiply on
    /// every allocation): the most recently freed buffer, still warm in the cache, is the
    /// next one handed out.
    @inlinable var freeStack: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>> {
        UnsafeMutableRawPointer(self + 1).assumingMemoryBound(to: UnsafeMutablePointer<PacketBufferHeader>.self)
    }
}

/// A pool of fixed-size DMA packet buffers, each with its physical address precomputed.
///
/// A `Mempool` is a handle (one pointer): copying it is free. It is not thread-safe: use one
/// pool per queue and thread. Call `destroy(using:)` once every buffer has come back.
@frozen
public struct Mempool {
    public let storage: UnsafeMutablePointer<MempoolStorage>

    public static let defaultBufferSize = 2048

    /// Allocates `count` buffers of `bufferSize` bytes (a power of two that divides 2 MiB,
    /// so that no buffer straddles two hugepages).
    public init(count: Int, bufferSize: Int = Mempool.defaultBufferSize, allocator: some DMAAllocator) throws {
        guard count > 0, count <= Int(UInt32.max) else { throw UIOError.device("mempool size \(count) must be between 1 and 2^32-1") }
        guard bufferSize >= 256, bufferSize & (bufferSize - 1) == 0, bufferSize <= HugepageAllocator.hugepageSize else {
            throw UIOError.device("mempool buffer size \(bufferSize) must be a power of two between 256 and 2 MiB")
        }
        let region = try allocator.allocate(size: count * bufferSize, contiguous: false)
        let entry = MemoryLayout<UnsafeMutablePointer<PacketBufferHeader>>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<MempoolStorage>.stride + entry * count,
                                                   alignment: MemoryLayout<MempoolStorage>.alignment)
        let stack = (raw + MemoryLayout<MempoolStorage>.stride).bindMemory(to: UnsafeMutablePointer<PacketBufferHeader>.self, capacity: count)
        // One pagemap lookup per physically contiguous block (per hugepage): at start-up the
        // per-buffer lookups cost seconds under emulation, and restarts must be quick.
        let block = max(allocator.contiguousBlockSize, bufferSize)
        var blockPhysical: UInt64 = 0
        for i in 0..<count {
            let offset = i * bufferSize
            let slot = region.virtualAddress + offset
            if offset % block == 0 {
                do { blockPhysical = try allocator.physicalAddress(of: slot) } catch {
                    raw.deallocate()
                    allocator.free(region)
                    throw error
                }
            }
            let physical = blockPhysical + UInt64(offset % block)
            let header = slot.bindMemory(to: PacketBufferHeader.self, capacity: 1)
            header.initialize(to: PacketBufferHeader(slotPhysicalAddress: physical, pool: UnsafeMutablePointer(bitPattern: 1)!, index: UInt32(i),
                                                 dataCapacity: UInt32(bufferSize - PacketBufferHeader.dataOffset)))
            // Highest first, so that buffer 0 is handed out first.
            (stack + (count - 1 - i)).initialize(to: header)
        }
        storage = raw.bindMemory(to: MempoolStorage.self, capacity: 1)
        storage.initialize(to: MempoolStorage(base: region.virtualAddress, bufferSize: bufferSize, count: count,
                                              freeCount: count, region: region))
        for i in 0..<count { header(at: i).pointee.pool = storage }
    }

    /// Releases the DMA memory. Returns false (and keeps it) while buffers are still out,
    /// because a device or a batch might still write to them.
    @discardableResult
    public func destroy(using allocator: some DMAAllocator) -> Bool {
        guard storage.pointee.freeCount == storage.pointee.count else { return false }
        allocator.free(storage.pointee.region)
        storage.deinitialize(count: 1)
        UnsafeMutableRawPointer(storage).deallocate()
        return true
    }

    @inlinable public var capacity: Int { storage.pointee.count }
    @inlinable public var available: Int { storage.pointee.freeCount }
    @inlinable public var bufferSize: Int { storage.pointee.bufferSize }
    /// Bytes of frame data one buffer holds.
    @inlinable public var dataCapacity: Int { storage.pointee.bufferSize - PacketBufferHeader.dataOffset }

    @inlinable func header(at index: Int) -> UnsafeMutablePointer<PacketBufferHeader> {
        (storage.pointee.base + index * storage.pointee.bufferSize).assumingMemoryBound(to: PacketBufferHeader.self)
    }

    /// A buffer, or nil when the pool is empty (never a crash).
    @inlinable public func allocate() -> PacketBuffer? {
        guard let header = unsafeAllocateHeader() else { return nil }
        return PacketBuffer(unsafeHeader: header)
    }

    /// For drivers: a buffer's header, owned by the caller until it is passed to `unsafeFree`.
    @inlinable public func unsafeAllocateHeader() -> UnsafeMutablePointer<PacketBufferHeader>? {
        let s = storage
        let n = s.pointee.freeCount
        guard n > 0 else { return nil }
        s.pointee.freeCount = n &- 1
        let header = s.freeStack[n &- 1]
        header.pointee.storedLength = 0
        return header
    }

    /// For drivers: takes up to `count` buffers (fewer when the pool runs low) and hands each
    /// to `body`, which then owns it; returns how many. A ring refill passes its own loop as
    /// `body`, so that buffers go straight into descriptors, with the pool's state in registers.
    @inlinable public func unsafeAllocateHeaders(count: Int, _ body: (UnsafeMutablePointer<PacketBufferHeader>) -> Void) -> Int {
        let s = storage
        let available = s.pointee.freeCount
        let n = count < available ? count : available
        if n <= 0 { return 0 }
        let stack = s.freeStack
        var top = available
        s.pointee.freeCount = available &- n
        let end = available &- n
        while top != end {
            top &-= 1
            body(stack[top])
        }
        return n
    }

    /// Returns a buffer to the pool it came from.
    @inlinable public static func unsafeFree(_ header: UnsafeMutablePointer<PacketBufferHeader>) {
        let s = header.pointee.pool
        let n = s.pointee.freeCount
        assert(n < s.pointee.count, "mempool overflow: a buffer was freed twice")
        s.freeStack[n] = header
        s.pointee.freeCount = n &+ 1
    }
}
