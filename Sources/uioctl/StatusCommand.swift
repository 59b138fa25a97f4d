import ArgumentParser
import UIO
import UIODevices

/// `uioctl status ADDR`: everything swift-uio would use to drive one device, and how.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a device's IDs, driver, UIO node, BARs and how each would be mapped.")

    @Argument(help: "PCI address, DDDD:BB:DD.F or BB:DD.F (see `uioctl list`).")
    var address: String

    @Flag(help: "Print one JSON object for scripts, instead of the report.")
    var json = false

    @OptionGroup var options: SysfsOptions

    func run() throws {
        let sysfs = options.sysfs
        let address = try PCIAddress(parsing: address)
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        print(json ? try JSONReport.render(JSONReport.status(info, sysfs: sysfs)) : Self.report(info, sysfs: sysfs))
    }

    static func report(_ info: PCIDeviceInfo, sysfs: Sysfs) -> String {
        var lines: [String] = []
        func field(_ name: String, _ value: String) {
            lines.append("  " + name.padding(toLength: 11, withPad: " ", startingAt: 0) + value)
        }
        let description = DriverRegistry.describe(vendor: info.vendorID, device: info.deviceID) ?? "unknown device"
        lines.append("\(info.address)  \(Format.ids(info.vendorID, info.deviceID))  \(description)")
        field("class", "\(Format.hex(info.classCode, width: 6)) (\(Format.className(info.classCode)))")
        field("driver", info.driver ?? "none")
        if let kind = DriverRegistry.driver(vendor: info.vendorID, device: info.deviceID) {
            field("swift-uio", "\(kind.rawValue) driver")
        } else {
            field("swift-uio", "no driver: " + DriverRegistry.unsupported(vendor: info.vendorID, device: info.deviceID).description)
        }

        // A UIO node is read only when one is bound; without it the BAR plan below is what
        // swift-uio would do after binding uio_pci_generic (which exports no maps for 64-bit
        // or prefetchable BARs anyway).
        var uio: UIODeviceInfo?
        if let index = info.uioIndex {
            do {
                let node = try UIODeviceInfo(index: index, sysfs: sysfs)
                uio = node
                field("UIO", "uio\(index): \(node.name) \(node.version), \(node.eventCount) interrupts so far, \(node.devicePath)")
                for map in node.maps {
                    field("", "map\(map.index) \(map.name.isEmpty ? "" : map.name + " ")addr 0x\(Format.hex(map.address, width: 1)) size \(Format.size(map.size)) offset 0x\(Format.hex(map.offset, width: 1))")
                }
                for port in node.ports {
                    field("", "port\(port.index) \(port.name.isEmpty ? "" : port.name + " ")start 0x\(Format.hex(port.start, width: 4)) size \(port.size) \(port.portType)")
                }
            } catch {
                field("UIO", "uio\(index) (unreadable: \(error))")
            }
        } else {
            field("UIO", "not bound: " + UIOError.notBoundToUIO(info.address, driver: info.driver).description)
        }

        if info.bars.isEmpty { field("BARs", "none") }
        for bar in info.bars {
            field("BAR\(bar.index)", "\(Format.barKind(bar)), \(Format.size(bar.size)) at 0x\(Format.hex(bar.start, width: 1))")
            switch bar.kind {
            case .ioPorts:
                // Which one is used is decided when mapping: ioperm() needs CAP_SYS_RAWIO.
                let direct = BARMapping.plan(bar: bar, device: info.address, uio: uio, portIOPermitted: true, sysfs: sysfs)
                let fallback = BARMapping.plan(bar: bar, device: info.address, uio: uio, portIOPermitted: false, sysfs: sysfs)
                field("", "→ \(direct)")
                if fallback != direct { field("", "→ else \(fallback)") }
            case .memory32, .memory64:
                field("", "→ \(BARMapping.plan(bar: bar, device: info.address, uio: uio, portIOPermitted: false, sysfs: sysfs))")
            }
        }

        let method = InterruptRearmMethod.forUIODriver(named: uio?.name ?? "uio_pci_generic")
        let how = method == .pciCommand
            ? "clear PCI_COMMAND Interrupt Disable (bit 10) in config space"
            : "write 1 to \(uio?.devicePath ?? "/dev/uioN") (irqcontrol)"
        field("interrupts", "re-arm by \(method.rawValue): \(how)" + (uio == nil ? " (once bound to uio_pci_generic)" : ""))
        return lines.joined(separator: "\n")
    }
}
