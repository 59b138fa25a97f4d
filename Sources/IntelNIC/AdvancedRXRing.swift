import UIO

/// One receive ring of advanced RX descriptors, as the 82599 (datasheet §7.1.6) and the
/// 82576 (datasheet §7.1.5) share it: the descriptors in DMA memory, the buffer posted in
/// each slot (ixy's `virtual_addresses`) and the mempool the buffers come from.
///
/// Everything is allocated once, in `init`; the hot path only moves pointers. The chip's
/// driver programs the ring's address and size into its own registers and passes the offset
/// of its tail register (RDT) to `receive`.
public struct AdvancedRXRing {
    public let ring: DMARegion
    @usableFromInline let descriptors: UnsafeMutableRawPointer
    /// The buffer posted in each descriptor; every slot holds one once `fill()` has run.
    @usableFromInline let buffers: UnsafeMutablePointer<UnsafeMutablePointer<PacketBufferHeader>?>
    public let size: Int
    @usableFromInline let mask: Int
    public let mempool: Mempool
    /// The next descriptor to check for DD (ixy's `rx_index`).
    @usableFromInline var index = 0
    /// Set while skipping the rest of a frame that spans several descriptors.
    @usableFromInline var discarding = false
    /// Frames dropped because they spanned more than one descriptor.
    public var droppedFragments: UInt64 = 0

    /// `name` ("ixgbe", "igb") goes into the error messages.
    public init(size: Int, mempoolSize: Int, allocator: some DMAAllocator, name: String) throws {
        let mempool = try Mempool(count: mempoolSize, allocator: allocator)
        let ring: DMARegion
        do {
            ring = try allocator.allocate(size: size * AdvancedRXDescriptor.size, contiguous: true)
        } catch {
            mempool.destroy(using: allocator)
            throw error
        }
        // RDBAL's low 7 bits are ignored (82599 datasheet §8.2.3.8.1); the 82576's RDBAL alike.
        guard ring.physicalAddress & 127 == 0 else {
            allocator.free(ring)
            mempool.destroy(using: allocator)
            throw UIOError.device("\(name): the allocator returned an RX ring at 0x\(String(ring.physicalAddress, radix: 16)), which is not 128-byte aligned as the device requires")
        }
        self.mempool = mempool
        self.ring = ring
        self.size = size
        mask = size - 1
        descriptors = ring.virtualAddress
        buffers = .allocate(capacity: size)
        buffers.initialize(repeating: nil, count: size)
    }

    @inlinable func descriptor(_ i: Int) -> UnsafeMutableRawPointer { descriptors + i &* AdvancedRXDescriptor.size }

    /// Posts a fresh buffer in every descriptor (82599 §4.6.7.1; the 82576 likewise: the ring is
    /// filled before the queue is enabled). False if the mempool ran out.
    public func fill() -> Bool {
        for i in 0..<size where buffers[i] == nil {
            guard let buffer = mempool.unsafeAllocateHeader() else { return false }
            buffers[i] = buffer
            AdvancedRXDescriptor.setRead(descriptor(i), packetAddress: buffer.pointee.dataPhysicalAddress)
        }
        return true
    }

    /// Whether the next descriptor has been written back.
    @inlinable public var hasPending: Bool {
        AdvancedRXDescriptor.statusError(descriptor(index)) & AdvancedRXDescriptor.STAT_DD != 0
    }

    /// The next descriptor's DD bit as a test another thread can make while this queue sleeps
    /// (`QueueWaker`): pending once the device has written it back.
    public var receiveProbe: ReceiveProbe {
        ReceiveProbe(address: UnsafeRawPointer(descriptor(index) + 8), width: 4,
                     mask: AdvancedRXDescriptor.STAT_DD.littleEndian, expected: 0)
    }

    /// ixy's `ixgbe_rx_batch`: walks the ring from `index` while descriptors are done, swaps
    /// a fresh buffer into each, and writes the tail register once, to the last descriptor
    /// handled. Returns how many frames were appended to `batch`.
    ///
    /// A static function on a pointer to the ring, not a mutating method: the ring's fields
    /// are then read through the pointer as needed instead of being held in registers for
    /// the whole loop, which spilled (callgrind on forward-bench ixgbe: 98.5 driver
    /// instructions per packet this way, 101.8 as a mutating method).
    @inlinable
    public static func receive<R: RegisterAccess>(_ rx: UnsafeMutablePointer<AdvancedRXRing>, into batch: inout PacketBatch,
                                                  registers: R, tail: Int) -> Int {
        let mempool = rx.pointee.mempool
        let capacity = mempool.dataCapacity
        var index = rx.pointee.index
        var last = -1
        var received = 0
        while batch.count < batch.capacity {
            let d = rx.pointee.descriptor(index)
            let status = AdvancedRXDescriptor.statusError(d)
            if status & AdvancedRXDescriptor.STAT_DD == 0 { break }
            MemoryBarrier.read()
            let buffer = rx.pointee.buffers[index].unsafelyUnwrapped
            if status & AdvancedRXDescriptor.STAT_EOP == 0 || rx.pointee.discarding {
                // Part of a frame that spans descriptors: give the same buffer back, and
                // skip up to and including the descriptor with EOP.
                if status & AdvancedRXDescriptor.STAT_EOP == 0 {
                    if !rx.pointee.discarding { rx.pointee.droppedFragments &+= 1 }
                    rx.pointee.discarding = true
                } else {
                    rx.pointee.discarding = false
                }
                AdvancedRXDescriptor.setRead(d, packetAddress: buffer.pointee.dataPhysicalAddress)
            } else {
                // No fresh buffer: leave this descriptor done and stop; the next call retries.
                guard let fresh = mempool.unsafeAllocateHeader() else { break }
                buffer.pointee.storedLength = UInt32(truncatingIfNeeded: min(AdvancedRXDescriptor.length(d), capacity))
                batch.unsafeAppend(buffer)
                rx.pointee.buffers[index] = fresh
                AdvancedRXDescriptor.setRead(d, packetAddress: fresh.pointee.dataPhysicalAddress)
                received &+= 1
            }
            last = index
            index = (index &+ 1) & rx.pointee.mask
        }
        if last >= 0 {
            rx.pointee.index = index
            MemoryBarrier.write()
            registers.write32(tail, UInt32(truncatingIfNeeded: last))
        }
        return received
    }

    /// Returns posted buffers to the pool and frees the ring and the pool. Only after the
    /// device has been reset, so that nothing writes to them any more.
    public func destroy(allocator: some DMAAllocator) {
        for i in 0..<size { if let b = buffers[i] { Mempool.unsafeFree(b) } }
        buffers.deallocate()
        allocator.free(ring)
        mempool.destroy(using: allocator)
    }
}
