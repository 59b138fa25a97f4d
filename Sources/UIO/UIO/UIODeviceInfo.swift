/// A UIO node as `/sys/class/uio/uioN` describes it.
public struct UIODeviceInfo: Sendable, Equatable {
    /// A memory map the kernel exports: mmap `/dev/uioN` at `index` × page size to get it.
    public struct Map: Sendable, Equatable {
        public let index: Int
        public let name: String
        public let address: UInt64
        public let size: UInt64
        /// Offset of the region within the first mapped page.
        public let offset: UInt64
    }

    /// An I/O-port range the kernel lists (`portio/portN`).
    public struct PortRange: Sendable, Equatable {
        public let index: Int
        public let name: String
        public let start: UInt64
        public let size: UInt64
        public let portType: String
    }

    public let index: Int
    public let name: String
    public let version: String
    public let eventCount: UInt64
    public let maps: [Map]
    public let ports: [PortRange]

    public var devicePath: String { "/dev/uio\(index)" }

    public init(index: Int, sysfs: Sysfs = .live) throws {
        let dir = "/sys/class/uio/uio\(index)"
        guard sysfs.exists(dir) else {
            throw UIOError.systemCall("open", path: sysfs.path(dir), errno: ENOENT)
        }
        self.index = index
        name = try sysfs.read(dir + "/name")
        version = (try? sysfs.read(dir + "/version")) ?? ""
        eventCount = (try? sysfs.readNumber(dir + "/event", decimal: true)) ?? 0
        maps = try Self.numbered(sysfs, dir + "/maps", prefix: "map").map { i, d in
            Map(index: i, name: (try? sysfs.read(d + "/name")) ?? "",
                address: try sysfs.readNumber(d + "/addr"), size: try sysfs.readNumber(d + "/size"),
                offset: (try? sysfs.readNumber(d + "/offset")) ?? 0)
        }
        ports = try Self.numbered(sysfs, dir + "/portio", prefix: "port").map { i, d in
            PortRange(index: i, name: (try? sysfs.read(d + "/name")) ?? "",
                      start: try sysfs.readNumber(d + "/start"), size: try sysfs.readNumber(d + "/size"),
                      portType: (try? sysfs.read(d + "/porttype")) ?? "")
        }
    }

    /// The UIO node of a PCI device (`/sys/bus/pci/devices/ADDR/uio/uioN`).
    public init(pci address: PCIAddress, sysfs: Sysfs = .live) throws {
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        guard let index = info.uioIndex else { throw UIOError.notBoundToUIO(address, driver: info.driver) }
        try self.init(index: index, sysfs: sysfs)
    }

    /// The UIO map that covers a BAR, matched by physical address.
    public func map(covering bar: PCIBar) -> Map? {
        maps.first { $0.address == bar.start || ($0.address <= bar.start && bar.start < $0.address + $0.size) }
    }

    private static func numbered(_ sysfs: Sysfs, _ dir: String, prefix: String) throws -> [(Int, String)] {
        sysfs.list(dir).compactMap { name -> (Int, String)? in
            guard name.hasPrefix(prefix), let i = Int(name.dropFirst(prefix.count)) else { return nil }
            return (i, dir + "/" + name)
        }.sorted { $0.0 < $1.0 }
    }
}

#if canImport(Glibc)
import Glibc
#endif
