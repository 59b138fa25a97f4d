/// What sysfs says about one PCI function (`/sys/bus/pci/devices/ADDR`).
public struct PCIDeviceInfo: Sendable {
    public let address: PCIAddress
    public let vendorID: UInt16
    public let deviceID: UInt16
    /// 24-bit class code: class, subclass, programming interface (0x020000 is Ethernet).
    public let classCode: UInt32
    /// The kernel driver bound to it, from the `driver` symlink.
    public let driver: String?
    /// Index of its UIO node (`uio/uioN`) when a UIO driver is bound.
    public let uioIndex: Int?
    public let bars: [PCIBar]

    public var isNetworkController: Bool { classCode >> 16 == 0x02 }
    public var sysfsDirectory: String { "/sys/bus/pci/devices/\(address)" }

    /// Reads the device's sysfs directory; throws `.noSuchDevice` when it is absent.
    public init(address: PCIAddress, sysfs: Sysfs = .live) throws {
        let dir = "/sys/bus/pci/devices/\(address)"
        guard sysfs.exists(dir) else { throw UIOError.noSuchDevice(address) }
        self.address = address
        vendorID = UInt16(truncatingIfNeeded: try sysfs.readNumber(dir + "/vendor"))
        deviceID = UInt16(truncatingIfNeeded: try sysfs.readNumber(dir + "/device"))
        classCode = UInt32(truncatingIfNeeded: try sysfs.readNumber(dir + "/class"))
        driver = sysfs.linkTarget(dir + "/driver")
        uioIndex = sysfs.list(dir + "/uio").compactMap { name in
            name.hasPrefix("uio") ? Int(name.dropFirst(3)) : nil
        }.first
        bars = sysfs.exists(dir + "/resource") ? try PCIBar.parse(resourceFile: try sysfs.read(dir + "/resource"), path: sysfs.path(dir + "/resource")) : []
    }

    /// All PCI functions that sysfs lists, sorted by address.
    public static func all(sysfs: Sysfs = .live) -> [PCIDeviceInfo] {
        sysfs.list("/sys/bus/pci/devices").compactMap { name in
            guard let address = try? PCIAddress(parsing: name) else { return nil }
            return try? PCIDeviceInfo(address: address, sysfs: sysfs)
        }.sorted { $0.address < $1.address }
    }

    public func bar(_ index: Int) -> PCIBar? { bars.first { $0.index == index } }
}

/// One base address register, as the sysfs `resource` file lists it (`start end flags` per line).
public struct PCIBar: Sendable, Equatable {
    /// Memory (32- or 64-bit) or I/O ports, from the resource flags.
    public enum Kind: Sendable, Equatable { case memory32, memory64, ioPorts }
    public let index: Int
    public let start: UInt64
    public let size: UInt64
    public let kind: Kind
    public let prefetchable: Bool

    public init(index: Int, start: UInt64, size: UInt64, kind: Kind, prefetchable: Bool) {
        self.index = index
        self.start = start
        self.size = size
        self.kind = kind
        self.prefetchable = prefetchable
    }

    // IORESOURCE_* flags from include/linux/ioport.h, and PCI_BASE_ADDRESS_MEM_TYPE_64.
    static let ioResourceIO: UInt64 = 0x100
    static let ioResourceMem: UInt64 = 0x200
    static let ioResourcePrefetch: UInt64 = 0x2000
    static let ioResourceMem64: UInt64 = 0x0010_0000

    /// Lines 0–5 are the BARs; empty ones read `0x0 0x0 0x0`.
    static func parse(resourceFile text: String, path: String) throws -> [PCIBar] {
        var bars: [PCIBar] = []
        for (index, line) in text.split(separator: "\n").prefix(6).enumerated() {
            let fields = line.split(separator: " ").map { UInt64($0.dropFirst(2), radix: 16) }
            guard fields.count == 3, let start = fields[0], let end = fields[1], let flags = fields[2] else {
                throw UIOError.malformedSysfs(path: path, content: String(line))
            }
            guard end > start || (start != 0 && end == start) else { continue }
            let kind: Kind
            if flags & ioResourceIO != 0 { kind = .ioPorts }
            else if flags & ioResourceMem != 0 { kind = flags & ioResourceMem64 != 0 ? .memory64 : .memory32 }
            else { continue }
            bars.append(PCIBar(index: index, start: start, size: end - start + 1, kind: kind,
                               prefetchable: flags & ioResourcePrefetch != 0))
        }
        return bars
    }
}
