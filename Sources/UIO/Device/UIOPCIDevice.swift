import CUIOShim
#if canImport(Glibc)
import Glibc
#endif

/// A PCI device bound to a UIO driver, opened for a user-space driver.
///
/// Opening it checks the binding, opens `/dev/uioN` (held until this value is destroyed, so
/// that the kernel stops DMA if the process dies) and the config space, and enables DMA.
/// BARs are mapped on request and unmapped in `deinit`.
public struct UIOPCIDevice: ~Copyable, PCIFunction {
    public let info: PCIDeviceInfo
    public let uio: UIODeviceInfo
    public let sysfs: Sysfs
    private let config: PCIConfigSpace
    private var interrupts: UIOInterruptLine
    private var mappings: [(address: UnsafeMutableRawPointer, length: Int)] = []
    private var descriptors: [CInt] = []

    public var address: PCIAddress { info.address }
    public var vendorID: UInt16 { info.vendorID }
    public var deviceID: UInt16 { info.deviceID }
    /// `/dev/uioN`'s descriptor, for `poll()` over several devices.
    public var interruptDescriptor: CInt { interrupts.fileDescriptor }
    /// `/dev/uioN`: readable once its interrupt count has moved past the last one read.
    public var interruptDescriptors: [Int32] { [interrupts.fileDescriptor] }
    public var rearmMethod: InterruptRearmMethod { interrupts.method }

    /// Opens the device's UIO node, config space and BARs.
    /// - Parameters:
    ///   - address: the device, which must be bound to a UIO driver (`uioctl bind`).
    ///   - rearm: forces a re-arm method; by default it follows the UIO driver's name.
    ///   - sysfs: where /sys, /dev and /proc are (a fake tree in tests).
    public init(address: PCIAddress, rearm: InterruptRearmMethod? = nil, sysfs: Sysfs = .live) throws {
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        guard let index = info.uioIndex else { throw UIOError.notBoundToUIO(address, driver: info.driver) }
        let uio = try UIODeviceInfo(index: index, sysfs: sysfs)
        let method = rearm ?? InterruptRearmMethod.forUIODriver(named: uio.name)
        let config = try PCIConfigSpace(address: address, sysfs: sysfs)
        let lineConfig: PCIConfigSpace? = method == .pciCommand ? try PCIConfigSpace(address: address, sysfs: sysfs) : nil
        let line = try UIOInterruptLine(devicePath: sysfs.path(uio.devicePath), method: method, config: lineConfig)
        self.info = info
        self.uio = uio
        self.sysfs = sysfs
        self.config = config
        self.interrupts = line
    }

    public init(address: String, rearm: InterruptRearmMethod? = nil, sysfs: Sysfs = .live) throws {
        try self.init(address: try PCIAddress(parsing: address), rearm: rearm, sysfs: sysfs)
    }

    deinit {
        for m in mappings { munmap(m.address, m.length) }
        for fd in descriptors { close(fd) }
    }

    public func readConfig<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
        try config.read(T.self, at: offset)
    }

    public func writeConfig<T: FixedWidthInteger>(_ value: T, at offset: Int) throws {
        try config.write(value, at: offset)
    }

    public mutating func mapBAR(_ index: Int) throws -> DeviceRegion {
        guard let bar = info.bar(index) else { throw UIOError.noSuchBAR(address, index: index) }
        var plan = BARMapping.plan(bar: bar, device: address, uio: uio, portIOPermitted: true, sysfs: sysfs)
        if case .portInstructions(let base) = plan, uio_port_permit(UInt(base), UInt(bar.size)) != 0 {
            plan = .portFile(path: sysfs.path("/sys/bus/pci/devices/\(address)/resource\(index)"))
        }
        let size = Int(bar.size)
        switch plan {
        case .uioMap(let mapIndex, let offset):
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let length = Int(offset) + size
            let pointer = try map(path: sysfs.path(uio.devicePath), length: length, fileOffset: mapIndex * page)
            return DeviceRegion(backing: .memory(UInt(bitPattern: pointer + Int(offset))), size: size)
        case .resourceFile(let path):
            let pointer = try map(path: path, length: size, fileOffset: 0)
            return DeviceRegion(backing: .memory(UInt(bitPattern: pointer)), size: size)
        case .portInstructions(let base):
            return DeviceRegion(backing: .ports(base: base), size: size)
        case .portFile(let path):
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw UIOError.fromErrno("open", path: path) }
            descriptors.append(fd)
            return DeviceRegion(backing: .file(descriptor: fd), size: size)
        }
    }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        try interrupts.wait(timeout: timeout)
    }

    public mutating func rearmInterrupt() throws {
        try interrupts.rearm()
    }

    private mutating func map(path: String, length: Int, fileOffset: Int) throws -> UnsafeMutableRawPointer {
        let fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC)
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: path) }
        defer { close(fd) }
        let pointer = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(fileOffset))
        guard let pointer, pointer != MAP_FAILED else { throw UIOError.fromErrno("mmap", path: path) }
        mappings.append((pointer, length))
        return pointer
    }
}
