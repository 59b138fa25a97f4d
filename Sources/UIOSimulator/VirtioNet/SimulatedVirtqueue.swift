import UIO

/// The device side of one split virtqueue (virtio 1.0 §2.4).
///
/// Layout in driver memory:
///   descriptor table: { le64 addr; le32 len; le16 flags; le16 next } × size
///   available ring:   le16 flags; le16 idx; le16 ring[size]; le16 used_event
///   used ring:        le16 flags; le16 idx; { le32 id; le32 len } ring[size]; le16 avail_event
/// The device reads descriptors and the available ring and writes only the used ring.
struct SimulatedVirtqueue {
    typealias Ring = VirtioNetModelLayout.Ring

    /// One buffer of a chain, in driver memory.
    struct Segment {
        var address: UInt64
        var length: Int
    }

    /// A descriptor chain taken from the available ring: driver-readable segments first,
    /// then device-writable ones (virtio 1.0 §2.4.4.2).
    struct Chain {
        var head: UInt16
        var readable: [Segment] = []
        var writable: [Segment] = []
        var writableCapacity: Int { writable.reduce(0) { $0 + $1.length } }
    }

    let index: Int
    /// The largest size the device supports (legacy: the only one).
    let maxSize: Int
    var size: Int
    var descriptorTable: UInt64 = 0
    var availRing: UInt64 = 0
    var usedRing: UInt64 = 0
    /// Modern: queue_enable was written 1. Legacy: a non-zero PFN was written.
    var enabled = false
    /// The device's shadow of avail.idx: the next entry it will take.
    var lastAvail: UInt16 = 0
    /// The next used.idx it will publish, and the entries filled but not yet published.
    var usedIndex: UInt16 = 0
    var unpublished: UInt16 = 0
    /// A notification arrived since the device last looked at the queue.
    var kicked = false
    var notifications = 0

    init(index: Int, maxSize: Int) {
        self.index = index
        self.maxSize = maxSize
        self.size = maxSize
    }

    /// Forgets everything the driver set up (device reset, virtio 1.0 §2.1.2).
    mutating func reset() {
        self = SimulatedVirtqueue(index: index, maxSize: maxSize)
    }

    /// Legacy: the three parts lie in one area at `pfn` × 4096, the used ring on the next
    /// 4096-byte boundary after the available ring (virtio 0.9.5 §2.3, vring_init).
    mutating func setLegacyAddress(pfn: UInt32) {
        guard pfn != 0 else { enabled = false; return }
        let base = UInt64(pfn) << VirtioNetModelLayout.Legacy.pfnShift
        let align = VirtioNetModelLayout.Legacy.queueAlignment
        descriptorTable = base
        availRing = base + UInt64(Ring.descriptorSize * size)
        usedRing = (availRing + UInt64(6 + 2 * size) + align - 1) & ~(align - 1)
        enabled = true
    }

    var legacyPFN: UInt32 { enabled ? UInt32(truncatingIfNeeded: descriptorTable >> VirtioNetModelLayout.Legacy.pfnShift) : 0 }

    // MARK: Available ring

    private func availIndex(_ m: GuestMemory) throws(VirtioFault) -> UInt16 {
        try m.load(UInt16.self, at: availRing + 2, "queue \(index) avail.idx")
    }

    /// Entries the driver made available that the device has not taken yet.
    func pendingCount(_ m: GuestMemory) throws(VirtioFault) -> Int {
        let pending = Int(try availIndex(m) &- lastAvail)
        guard pending <= size else {
            throw .badRing(queue: index, reason: "avail.idx moved \(pending) entries past the device, more than the queue size \(size)")
        }
        return pending
    }

    /// The driver asked not to be interrupted (VRING_AVAIL_F_NO_INTERRUPT, §2.4.7.1).
    func interruptSuppressed(_ m: GuestMemory) throws(VirtioFault) -> Bool {
        try m.load(UInt16.self, at: availRing, "queue \(index) avail.flags") & Ring.availFlagNoInterrupt != 0
    }

    /// Takes the next available chain, or nil when there is none.
    mutating func pop(_ m: GuestMemory) throws(VirtioFault) -> Chain? {
        guard try pendingCount(m) > 0 else { return nil }
        MemoryBarrier.read()  // the ring entry and descriptors are read after avail.idx
        let slot = Int(lastAvail) % size
        let head = try m.load(UInt16.self, at: availRing + 4 + UInt64(2 * slot), "queue \(index) avail.ring[\(slot)]")
        var chain = Chain(head: head)
        var descriptor = head
        var visited = 0
        while true {
            guard Int(descriptor) < size else {
                throw .badRing(queue: index, reason: "descriptor index \(descriptor) is outside the table of \(size)")
            }
            visited += 1
            guard visited <= size else { throw .badRing(queue: index, reason: "descriptor chain from \(head) loops") }
            let at = descriptorTable + UInt64(Ring.descriptorSize * Int(descriptor))
            let address = try m.load(UInt64.self, at: at, "queue \(index) descriptor \(descriptor)")
            let length = Int(try m.load(UInt32.self, at: at + 8, "queue \(index) descriptor \(descriptor)"))
            let flags = try m.load(UInt16.self, at: at + 12, "queue \(index) descriptor \(descriptor)")
            let next = try m.load(UInt16.self, at: at + 14, "queue \(index) descriptor \(descriptor)")
            guard flags & Ring.descFlagIndirect == 0 else {
                throw .badRing(queue: index, reason: "descriptor \(descriptor) is INDIRECT, but VIRTIO_F_RING_INDIRECT_DESC was not offered")
            }
            let segment = Segment(address: address, length: length)
            if flags & Ring.descFlagWrite != 0 {
                chain.writable.append(segment)
            } else {
                guard chain.writable.isEmpty else {
                    throw .badRing(queue: index, reason: "descriptor \(descriptor) is device-readable but follows a device-writable one")
                }
                chain.readable.append(segment)
            }
            guard flags & Ring.descFlagNext != 0 else { break }
            descriptor = next
        }
        lastAvail &+= 1
        return chain
    }

    /// Gives back `count` chains taken by `pop` (QEMU's virtqueue_unpop).
    mutating func unpop(_ count: Int) {
        lastAvail &-= UInt16(count)
    }

    // MARK: Used ring

    /// Writes a used element, not yet visible to the driver (QEMU's virtqueue_fill).
    mutating func fill(head: UInt16, length: Int, _ m: GuestMemory) throws(VirtioFault) {
        let slot = Int(usedIndex &+ unpublished) % size
        let at = usedRing + 4 + UInt64(8 * slot)
        try m.store(UInt32(head), at: at, "queue \(index) used.ring[\(slot)]")
        try m.store(UInt32(length), at: at + 4, "queue \(index) used.ring[\(slot)]")
        unpublished &+= 1
    }

    /// Publishes the filled elements by moving used.idx (QEMU's virtqueue_flush). Returns
    /// whether any were published.
    @discardableResult
    mutating func publish(_ m: GuestMemory) throws(VirtioFault) -> Bool {
        guard unpublished > 0 else { return false }
        MemoryBarrier.write()  // elements before the index
        usedIndex &+= unpublished
        unpublished = 0
        try m.store(usedIndex, at: usedRing + 2, "queue \(index) used.idx")
        MemoryBarrier.full()   // the index before reading avail.flags for interrupt suppression
        return true
    }

    /// Sets or clears VRING_USED_F_NO_NOTIFY (§2.4.7.2): "don't kick me, I poll".
    func setNoNotify(_ on: Bool, _ m: GuestMemory) throws(VirtioFault) {
        try m.store(on ? Ring.usedFlagNoNotify : 0, at: usedRing, "queue \(index) used.flags")
    }
}
