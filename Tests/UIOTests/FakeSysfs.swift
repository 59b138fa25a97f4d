import Foundation
@testable import UIO

/// A throwaway /sys, /dev and /proc tree in a temp dir, removed when the value goes away.
///
/// Everything that writes to sysfs is tested against one of these, never against the host:
/// the host's devices (its own network card included) must not be touched by a test.
final class FakeSysfs {
    let root: String
    var sysfs: Sysfs { Sysfs(root: root) }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/fake-sysfs-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw UIOError.fromErrno("mkdtemp", path: NSTemporaryDirectory()) }
        root = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The full path of `absolute` inside the tree.
    func path(_ absolute: String) -> String { root + absolute }

    func write(_ absolute: String, _ text: String) throws {
        try makeParent(of: absolute)
        try text.write(toFile: path(absolute), atomically: false, encoding: .utf8)
    }

    func write(_ absolute: String, bytes: [UInt8]) throws {
        try makeParent(of: absolute)
        try Data(bytes).write(to: URL(fileURLWithPath: path(absolute)))
    }

    func read(_ absolute: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(absolute))))
    }

    func symlink(_ absolute: String, to target: String) throws {
        try makeParent(of: absolute)
        try FileManager.default.createSymbolicLink(atPath: path(absolute), withDestinationPath: target)
    }

    func makeDirectory(_ absolute: String) throws {
        try FileManager.default.createDirectory(atPath: path(absolute), withIntermediateDirectories: true)
    }

    /// A FIFO stands in for `/dev/uioN`: the test writes 4-byte counts as the kernel would.
    func makeFIFO(_ absolute: String) throws {
        try makeParent(of: absolute)
        guard mkfifo(path(absolute), 0o600) == 0 else { throw UIOError.fromErrno("mkfifo", path: path(absolute)) }
    }

    private func makeParent(of absolute: String) throws {
        try FileManager.default.createDirectory(atPath: (path(absolute) as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
    }

    // MARK: Devices

    /// A 256-byte config space with IDs, the command register and (optionally) a capability
    /// list: `capabilities` are (offset, id) pairs chained in order from 0x34.
    static func configSpace(vendor: UInt16, device: UInt16, command: UInt16 = 0,
                            capabilities: [(offset: UInt8, id: UInt8)] = []) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 256)
        func put16(_ value: UInt16, at offset: Int) {
            bytes[offset] = UInt8(value & 0xff)
            bytes[offset + 1] = UInt8(value >> 8)
        }
        put16(vendor, at: 0)
        put16(device, at: 2)
        put16(command, at: PCIConfig.command)
        if let first = capabilities.first {
            put16(PCIConfig.statusCapabilitiesList, at: PCIConfig.status)
            bytes[PCIConfig.capabilitiesPointer] = first.offset
            for (i, cap) in capabilities.enumerated() {
                bytes[Int(cap.offset)] = cap.id
                bytes[Int(cap.offset) + 1] = i + 1 < capabilities.count ? capabilities[i + 1].offset : 0
            }
        }
        return bytes
    }

    /// `/sys/bus/pci/devices/ADDR` with the files libpci and swift-uio read.
    /// `driver` adds the `driver` symlink; `uioIndex` adds `uio/uioN` (as a UIO driver does).
    func addPCIDevice(_ address: String, vendor: UInt16, device: UInt16, classCode: UInt32 = 0x020000,
                      resource: String, driver: String? = nil, uioIndex: Int? = nil, config: [UInt8]? = nil) throws {
        let dir = "/sys/bus/pci/devices/\(address)"
        try write(dir + "/vendor", "0x\(hex(vendor))\n")
        try write(dir + "/device", "0x\(hex(device))\n")
        try write(dir + "/class", "0x\(hex(classCode, width: 6))\n")
        try write(dir + "/subsystem_vendor", "0x\(hex(vendor))\n")
        try write(dir + "/subsystem_device", "0x0001\n")
        try write(dir + "/revision", "0x00\n")
        try write(dir + "/irq", "11\n")
        try write(dir + "/resource", resource)
        try write(dir + "/config", bytes: config ?? Self.configSpace(vendor: vendor, device: device))
        // resourceN files exist for each BAR; their content is never read in these tests.
        for (i, line) in resource.split(separator: "\n").prefix(6).enumerated() where !line.hasPrefix("0x0000000000000000 0x0000000000000000") {
            try write(dir + "/resource\(i)", "")
        }
        if let driver {
            try makeDirectory("/sys/bus/pci/drivers/\(driver)")
            try symlink(dir + "/driver", to: "../../../bus/pci/drivers/\(driver)")
        }
        if let uioIndex { try makeDirectory(dir + "/uio/uio\(uioIndex)") }
    }

    struct Map { var addr: UInt64; var size: UInt64; var offset: UInt64 = 0; var name: String = "" }
    struct Port { var start: UInt64; var size: UInt64; var name: String = ""; var type: String = "port_x86" }

    /// `/sys/class/uio/uioN` and `/dev/uioN` (a FIFO when `fifo`, else a plain file).
    func addUIONode(index: Int, name: String = "uio_pci_generic", version: String = "0.01.0", events: Int = 0,
                    maps: [Map] = [], ports: [Port] = [], fifo: Bool = false) throws {
        let dir = "/sys/class/uio/uio\(index)"
        try write(dir + "/name", name + "\n")
        try write(dir + "/version", version + "\n")
        try write(dir + "/event", "\(events)\n")
        for (i, map) in maps.enumerated() {
            // The kernel prints addr and size with %pa (0x and 16 digits), offset with 0x%llx.
            try write(dir + "/maps/map\(i)/addr", "0x\(hex(map.addr, width: 16))\n")
            try write(dir + "/maps/map\(i)/size", "0x\(hex(map.size, width: 16))\n")
            try write(dir + "/maps/map\(i)/offset", "0x\(String(map.offset, radix: 16))\n")
            try write(dir + "/maps/map\(i)/name", map.name + "\n")
        }
        for (i, port) in ports.enumerated() {
            try write(dir + "/portio/port\(i)/start", "0x\(hex(port.start))\n")
            try write(dir + "/portio/port\(i)/size", "0x\(String(port.size, radix: 16))\n")
            try write(dir + "/portio/port\(i)/name", port.name + "\n")
            try write(dir + "/portio/port\(i)/porttype", port.type + "\n")
        }
        if fifo { try makeFIFO("/dev/uio\(index)") } else { try write("/dev/uio\(index)", "") }
    }

    func writeMeminfo(total: Int, free: Int) throws {
        try write("/proc/meminfo", """
            MemTotal:        4025836 kB
            HugePages_Total:    \(total)
            HugePages_Free:     \(free)
            HugePages_Rsvd:        0
            HugePages_Surp:        0
            Hugepagesize:       2048 kB

            """)
    }
}

/// Real `resource` files as QEMU's virtio-net devices show them (start end flags per line;
/// lines 0–5 are BARs, 6 the expansion ROM).
enum ResourceFixtures {
    static let empty = "0x0000000000000000 0x0000000000000000 0x0000000000000000"

    /// Legacy virtio-net (1af4:1000): BAR0 32 I/O ports, BAR1 4 KiB 32-bit MMIO (MSI-X table).
    static let legacyVirtioNet = [
        "0x000000000000c000 0x000000000000c01f 0x0000000000040101",
        "0x00000000febf1000 0x00000000febf1fff 0x0000000000040200",
        empty, empty, empty, empty,
        "0x00000000feb80000 0x00000000febbffff 0x0000000000046200",
    ].joined(separator: "\n") + "\n"

    /// Transitional virtio-net with the modern interface: as above, plus BAR4, 16 KiB of 64-bit
    /// prefetchable MMIO holding the virtio 1.0 capability structures.
    static let modernVirtioNet = [
        "0x000000000000c040 0x000000000000c05f 0x0000000000040101",
        "0x00000000febf2000 0x00000000febf2fff 0x0000000000040200",
        empty, empty,
        "0x00000000fe000000 0x00000000fe003fff 0x000000000014220c",
        empty,
        "0x00000000feb40000 0x00000000feb7ffff 0x0000000000046200",
    ].joined(separator: "\n") + "\n"
}
