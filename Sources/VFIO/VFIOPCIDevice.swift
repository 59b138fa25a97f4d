#if canImport(Glibc)
import Glibc
#endif
import UIO

/// A PCI device bound to vfio-pci, opened for a user-space driver: the VFIO counterpart of
/// `UIOPCIDevice`, so every driver runs on it unchanged.
///
/// Opening it follows Documentation/driver-api/vfio.rst: a container (`/dev/vfio/vfio`,
/// type1 v2 IOMMU), the device's group (`/dev/vfio/N`, which must be viable: every member
/// bound to vfio-pci or to nothing), and the device fd from VFIO_GROUP_GET_DEVICE_FD.
/// Regions are reached through the device fd: BARs are mmapped when the region allows it
/// (VFIO_REGION_INFO_FLAG_MMAP) and otherwise read and written with pread/pwrite (I/O-port
/// BARs, such as legacy virtio's BAR0); config space is region 7.
///
/// When the fds close, even after a `kill -9`, vfio-pci disables the device (Bus Master off),
/// frees its interrupts, and the container's IOMMU mappings go: no DMA outlives the process.
public struct VFIOPCIDevice: ~Copyable, PCIFunction {
    public let address: PCIAddress
    public let vendorID: UInt16
    public let deviceID: UInt16
    public let group: VFIOGroupInfo
    /// The IOMMU address space; give `VFIODMAAllocator(container:)` the same one.
    public let container: VFIOContainer
    public let deviceDescriptor: CInt
    let groupDescriptor: CInt
    let configOffset: Int64
    let configSize: Int
    private var interrupts: VFIOInterruptLine
    private var mappings: [(address: UnsafeMutableRawPointer, length: Int)] = []

    /// An allocator whose memory this device can reach (and no other memory).
    public var dmaAllocator: VFIODMAAllocator { VFIODMAAllocator(container: container) }
    public var interruptMode: VFIOInterruptLine.Mode { interrupts.mode }
    /// The eventfd of every vector (or of INTx).
    public var interruptDescriptors: [Int32] { (0..<interrupts.vectorCount).map { interrupts.descriptor(ofVector: $0) } }

    public var interruptVectors: Int {
        if case .msix(let vectors) = interrupts.mode { return vectors }
        return 0
    }
    /// Bit v set: MSI-X vector v fired in the last wait.
    public var lastInterruptVectors: UInt64 { interrupts.lastVectors }
    public func interruptDescriptor(vector: Int) -> CInt { interrupts.descriptor(ofVector: vector) }

    /// Opens the device through its IOMMU group: the group joins a container (which holds the
    /// DMA mappings), the BARs are mapped and the interrupts routed to eventfds.
    /// - Parameters:
    ///   - address: the device, bound to vfio-pci.
    ///   - mode: `.intx`, or MSI-X vectors (vector 0 for configuration changes, 1 + q for
    ///     RX queue q, for drivers that program them: modern virtio-net).
    ///   - fallBackToINTx: with `.msix`, use INTx when the device has fewer vectors.
    ///   - container: a container to share with other devices; nil opens one of its own.
    ///   - sysfs: where to read the device's facts (a fake tree in tests).
    public init(address: PCIAddress, interrupts mode: VFIOInterruptLine.Mode = .intx, fallBackToINTx: Bool = true,
                container: VFIOContainer? = nil, sysfs: Sysfs = .live) throws {
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        let group = try VFIOGroupInfo(address: address, sysfs: sysfs)
        guard info.driver == "vfio-pci" else { throw VFIOError.notBoundToVFIO(address, driver: info.driver) }
        let container = try container ?? VFIOContainer(path: sysfs.path("/dev/vfio/vfio"))

        let groupPath = sysfs.path(group.devicePath)
        let groupFD = open(groupPath, O_RDWR | O_CLOEXEC)
        guard groupFD >= 0 else {
            let code = errno
            if code == EACCES || code == EPERM { throw VFIOError.groupPermissionDenied(path: groupPath) }
            if code == EBUSY { throw VFIOError.groupBusy(path: groupPath) }
            throw UIOError.fromErrno("open", path: groupPath, errno: code)
        }
        var deviceFD: CInt = -1
        let config: VFIOABI.RegionInfo
        let line: VFIOInterruptLine
        do {
            var status = VFIOABI.GroupStatus()
            guard ioctl(groupFD, VFIOABI.groupGetStatus, &status) == 0 else {
                throw VFIOError.ioctl("VFIO_GROUP_GET_STATUS on \(groupPath)", errno: errno)
            }
            guard status.flags & VFIOABI.groupFlagViable != 0 else {
                throw VFIOError.groupNotViable(group: group.number, blockers: group.blockers(sysfs: sysfs))
            }
            try container.attach(groupDescriptor: groupFD, path: groupPath)
            deviceFD = "\(address)".withCString { ioctl(groupFD, VFIOABI.groupGetDeviceFD, UnsafeMutableRawPointer(mutating: $0)) }
            guard deviceFD >= 0 else {
                throw VFIOError.ioctl("VFIO_GROUP_GET_DEVICE_FD for \(address) in \(groupPath)", errno: errno)
            }
            config = try Self.regionInfo(deviceFD, index: VFIOABI.configRegionIndex, address: address)
            var resolved = mode
            if case .msix(let vectors) = mode, VFIOInterruptLine.msixCount(device: deviceFD) < vectors, fallBackToINTx {
                resolved = .intx
            }
            line = try VFIOInterruptLine(device: deviceFD, path: "\(address)", mode: resolved)
        } catch {
            if deviceFD >= 0 { close(deviceFD) }
            close(groupFD)
            throw error
        }
        self.configOffset = Int64(config.offset)
        self.configSize = Int(config.size)
        self.interrupts = line
        self.address = address
        self.group = group
        self.container = container
        self.groupDescriptor = groupFD
        self.deviceDescriptor = deviceFD
        self.vendorID = info.vendorID
        self.deviceID = info.deviceID
    }

    public init(address: String, interrupts mode: VFIOInterruptLine.Mode = .intx, sysfs: Sysfs = .live) throws {
        try self.init(address: try PCIAddress(parsing: address), interrupts: mode, sysfs: sysfs)
    }

    deinit {
        for m in mappings { munmap(m.address, m.length) }
        // Stored properties are destroyed after this body, so the interrupt line (which only
        // closes its eventfds) outlives the device fd: tear its trigger down here, first.
        VFIOInterruptLine.release(device: deviceDescriptor, mode: interrupts.mode)
        close(deviceDescriptor)
        close(groupDescriptor)
    }

    public func readConfig<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
        guard offset >= 0, offset + MemoryLayout<T>.size <= configSize else {
            throw UIOError.device("config-space read of \(MemoryLayout<T>.size) bytes at 0x\(String(offset, radix: 16)) is outside \(address)'s \(configSize) bytes")
        }
        var value: T = 0
        let n = withUnsafeMutableBytes(of: &value) { pread(deviceDescriptor, $0.baseAddress, $0.count, off_t(configOffset + Int64(offset))) }
        guard n == MemoryLayout<T>.size else { throw UIOError.fromErrno("pread", path: "config region of \(address) (VFIO)") }
        return T(littleEndian: value)
    }

    public func writeConfig<T: FixedWidthInteger>(_ value: T, at offset: Int) throws {
        guard offset >= 0, offset + MemoryLayout<T>.size <= configSize else {
            throw UIOError.device("config-space write of \(MemoryLayout<T>.size) bytes at 0x\(String(offset, radix: 16)) is outside \(address)'s \(configSize) bytes")
        }
        var le = value.littleEndian
        let n = withUnsafeBytes(of: &le) { pwrite(deviceDescriptor, $0.baseAddress, $0.count, off_t(configOffset + Int64(offset))) }
        guard n == MemoryLayout<T>.size else { throw UIOError.fromErrno("pwrite", path: "config region of \(address) (VFIO)") }
    }

    /// mmap when the region allows it (and the kernel agrees); pread/pwrite on the device fd
    /// otherwise, at the region's offset. An I/O-port BAR is never mappable through VFIO.
    public mutating func mapBAR(_ index: Int) throws -> DeviceRegion {
        guard (0..<6).contains(index) else { throw UIOError.noSuchBAR(address, index: index) }
        let region = try Self.regionInfo(deviceDescriptor, index: UInt32(index), address: address)
        guard region.size > 0 else { throw UIOError.noSuchBAR(address, index: index) }
        let size = Int(region.size)
        if region.flags & VFIOABI.regionFlagMmap != 0 {
            let pointer = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, deviceDescriptor, off_t(region.offset))
            if let pointer, pointer != MAP_FAILED {
                mappings.append((pointer, size))
                return DeviceRegion(backing: .memory(UInt(bitPattern: pointer)), size: size)
            }
            // A BAR holding the MSI-X table may refuse a whole-region mmap on kernels without
            // interrupt remapping (only sparse areas are mappable): fall back to pread/pwrite.
        }
        guard region.flags & (VFIOABI.regionFlagRead | VFIOABI.regionFlagWrite) == (VFIOABI.regionFlagRead | VFIOABI.regionFlagWrite) else {
            throw UIOError.device("BAR \(index) of \(address) is neither mappable nor readable and writable through VFIO")
        }
        return DeviceRegion(backing: .file(descriptor: deviceDescriptor, base: Int64(region.offset)), size: size)
    }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        try interrupts.wait(timeout: timeout)
    }

    public mutating func rearmInterrupt() throws {
        try interrupts.rearm()
    }

    static func regionInfo(_ device: CInt, index: UInt32, address: PCIAddress) throws -> VFIOABI.RegionInfo {
        var info = VFIOABI.RegionInfo()
        info.index = index
        guard ioctl(device, VFIOABI.deviceGetRegionInfo, &info) == 0 else {
            throw VFIOError.ioctl("VFIO_DEVICE_GET_REGION_INFO(\(index)) for \(address)", errno: errno)
        }
        return info
    }
}
