import CLibPCI
#if canImport(Glibc)
import Glibc
#endif

/// PCI enumeration through libpci (pciutils), the same library `lspci` uses.
///
/// libpci reads IDs, class and BARs; the bound driver and the UIO node come from sysfs.
public struct PCIBus {
    /// One function as libpci reports it.
    public struct Device: Sendable {
        public let address: PCIAddress
        public let vendorID: UInt16
        public let deviceID: UInt16
        public let classCode: UInt32
        /// Base addresses without flag bits, and their sizes, for BARs 0–5.
        public let bars: [(base: UInt64, size: UInt64, isIO: Bool)]
        public var isNetworkController: Bool { classCode >> 16 == 0x02 }
    }

    /// Scans the bus. `sysfsRoot` points libpci at another sysfs tree (used by tests).
    public static func scan(sysfs: Sysfs = .live) -> [Device] {
        // libpci's default error handler calls exit(1) when the sysfs tree it is pointed at is
        // missing; a fake tree without devices simply has none.
        if !sysfs.root.isEmpty && !sysfs.exists("/sys/bus/pci/devices") { return [] }
        guard let access = pci_alloc() else { return [] }
        defer { pci_cleanup(access) }
        if !sysfs.root.isEmpty {
            access.pointee.method = UInt32(PCI_ACCESS_SYS_BUS_PCI.rawValue)
            _ = sysfs.path("/sys/bus/pci").withCString { pci_set_param(access, strdup("sysfs.path"), strdup($0)) }
        }
        pci_init(access)
        pci_scan_bus(access)
        var devices: [Device] = []
        var cursor = access.pointee.devices
        while let dev = cursor {
            pci_fill_info(dev, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_BASES | PCI_FILL_SIZES | PCI_FILL_CLASS_EXT)
            let p = dev.pointee
            let address = PCIAddress(domain: UInt16(truncatingIfNeeded: p.domain), bus: p.bus, device: p.dev, function: p.func)
            let bases = withUnsafeBytes(of: p.base_addr) { Array($0.bindMemory(to: UInt64.self)) }
            let sizes = withUnsafeBytes(of: p.size) { Array($0.bindMemory(to: UInt64.self)) }
            let bars = (0..<6).map { i in
                (base: bases[i] & ~0xf, size: sizes[i], isIO: bases[i] & 1 == 1)
            }
            let classCode = UInt32(p.device_class) << 8 | UInt32(p.prog_if)
            devices.append(Device(address: address, vendorID: p.vendor_id, deviceID: p.device_id,
                                  classCode: classCode, bars: bars))
            cursor = p.next
        }
        return devices.sorted { $0.address < $1.address }
    }
}
