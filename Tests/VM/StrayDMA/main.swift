// vfio-stray-dma ADDR SECONDS: the IOMMU test of Tests/VM/test_vfio.py, run as root in the guest.
//
// Opens the NIC through VFIO with the unchanged virtio-net driver, then points the first
// posted RX descriptor at the guest-physical address of a hugepage that was never mapped into
// the VFIO container (filled with 0xA5), and receives for SECONDS while the host sends frames.
// Without an IOMMU the device would write the next frame there; with it, the write has no
// translation and faults (the guest kernel logs a DMAR fault). Prints what happened.
#if canImport(Glibc)
import Glibc
#endif
import UIO
import VFIO
import VirtioNet

/// Passes every call to the VFIO allocator and remembers the regions, in order: the driver
/// allocates its mempool first and its RX ring second (VirtioNetDevice.init).
struct RecordingAllocator: DMAAllocator {
    final class Log { var regions: [DMARegion] = [] }
    let base: VFIODMAAllocator
    let log = Log()
    var contiguousBlockSize: Int { base.contiguousBlockSize }
    func allocate(size: Int, contiguous: Bool) throws -> DMARegion {
        let region = try base.allocate(size: size, contiguous: contiguous)
        log.regions.append(region)
        return region
    }
    func physicalAddress(of pointer: UnsafeRawPointer) throws -> UInt64 { try base.physicalAddress(of: pointer) }
    func free(_ region: DMARegion) { base.free(region) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let seconds = Int(arguments[2]) else {
    print("usage: vfio-stray-dma ADDR SECONDS")
    exit(2)
}
do {
    let function = try VFIOPCIDevice(address: arguments[1], interrupts: .intx)
    let container = function.container
    let allocator = RecordingAllocator(base: function.dmaAllocator)
    var device = try VirtioNetDevice(function: function, allocator: allocator)

    // The victim: a hugepage of our own, outside the container, its guest-physical address
    // from pagemap (we are root here; the driver itself never needs it).
    let victim = try HugepageAllocator().allocate(size: HugepageAllocator.hugepageSize, contiguous: true)
    memset(victim.virtualAddress, 0xA5, victim.size)
    let stray = victim.physicalAddress + 0x1000
    let mapped = container.mappings.map { "0x\(String($0.iova, radix: 16))+\($0.size >> 20)MiB" }

    // Split virtqueue layout (virtio 1.0 §2.4): 16-byte descriptors {addr, len, flags, next},
    // then the available ring {flags, idx, ring[size]}. Redirect the first posted buffer.
    let ring = allocator.log.regions[1].virtualAddress
    let queueSize = 256  // QEMU's default rx_queue_size, which the VM test keeps
    let availableRing = ring + 16 * queueSize
    let head = Int(availableRing.load(fromByteOffset: 4, as: UInt16.self))
    let descriptor = ring + 16 * head
    let original = descriptor.load(as: UInt64.self)
    descriptor.storeBytes(of: stray, as: UInt64.self)
    MemoryBarrier.full()
    print("stray-dma: descriptor \(head) moved from IOVA 0x\(String(original, radix: 16)) to 0x\(String(stray, radix: 16)) (guest-physical, never mapped); mapped IOVAs: \(mapped.joined(separator: ", "))")
    print("stray-dma: ready")
    fflush(nil)  // all streams: the test waits for "ready" in a file

    var batch = PacketBatch(capacity: 32)
    var received = 0
    let clock = ContinuousClock()
    let end = clock.now + .seconds(seconds)
    while clock.now < end {
        received += device.receive(queue: 0, into: &batch)
        batch.removeAll()
        usleep(1000)
    }
    var changed = 0
    let bytes = victim.virtualAddress.assumingMemoryBound(to: UInt8.self)
    for i in 0..<victim.size where bytes[i] != 0xA5 { changed += 1 }
    print("stray-dma: received=\(received) victim-bytes-changed=\(changed) of \(victim.size)")
    device.shutdown()
    HugepageAllocator().free(victim)
} catch {
    print("stray-dma: error: \(error)")
    exit(1)
}
