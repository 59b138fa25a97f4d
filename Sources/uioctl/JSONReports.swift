import Foundation
import UIO
import UIODevices

/// The shapes `uioctl list --json` and `uioctl status --json` print, for provisioning scripts
/// (as dpdk-devbind's users script around its status). Field names are part of the interface:
/// add fields, do not rename them. IDs and addresses are hex strings (a 64-bit BAR address does
/// not fit a JSON number exactly); sizes and counts are numbers; absent values are null.
enum JSONReport {
    /// One row of `uioctl list --json`.
    struct ListedDevice: Encodable {
        let address: String
        let vendorID: String
        let deviceID: String
        let classCode: String
        let description: String
        /// The kernel driver bound now, or null.
        let driver: OrNull<String>
        /// `N` of /dev/uioN when bound to a UIO driver, or null.
        let uioIndex: OrNull<Int>
        /// The swift-uio driver for this PCI ID ("virtio-net", "ixgbe", ...), or null.
        let swiftUIODriver: OrNull<String>
    }

    /// `uioctl status --json`.
    struct DeviceStatus: Encodable {
        let address: String
        let vendorID: String
        let deviceID: String
        let classCode: String
        let description: String
        let driver: OrNull<String>
        let swiftUIODriver: OrNull<String>
        /// Why swift-uio cannot drive it, when it cannot.
        let unsupportedReason: OrNull<String>
        let uio: OrNull<UIONode>
        /// Why there is no UIO node (not bound), or why it could not be read.
        let uioProblem: OrNull<String>
        let bars: [BAR]
        /// "pci-command" (uio_pci_generic) or "irqcontrol".
        let interruptRearm: String
    }

    struct UIONode: Encodable {
        let index: Int
        let name: String
        let version: String
        let devicePath: String
        let interruptCount: UInt64
        let maps: [Map]
        let ports: [Ports]
    }

    struct Map: Encodable {
        let index: Int
        let name: String
        let address: String
        let size: UInt64
        let offset: UInt64
    }

    struct Ports: Encodable {
        let index: Int
        let name: String
        let start: String
        let size: UInt64
        let portType: String
    }

    struct BAR: Encodable {
        let index: Int
        /// "memory32", "memory64" or "io-ports".
        let kind: String
        let prefetchable: Bool
        let start: String
        let size: UInt64
        /// How swift-uio reaches it, as `uioctl status` words it.
        let access: String
        /// For I/O ports: the access used when ioperm() is not permitted, if it differs.
        let fallbackAccess: OrNull<String>
    }

    /// An optional that encodes as `null` when absent, instead of leaving the key out
    /// (which is what synthesized `Encodable` does), so that every object has every key.
    struct OrNull<Wrapped: Encodable>: Encodable {
        let value: Wrapped?
        init(_ value: Wrapped?) { self.value = value }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if let value { try container.encode(value) } else { try container.encodeNil() }
        }
    }

    static func hex<T: BinaryInteger>(_ value: T, width: Int) -> String { "0x" + Format.hex(value, width: width) }

    static func listed(_ device: PCIBus.Device, info: PCIDeviceInfo?) -> ListedDevice {
        ListedDevice(
            address: device.address.description,
            vendorID: hex(device.vendorID, width: 4), deviceID: hex(device.deviceID, width: 4),
            classCode: hex(device.classCode, width: 6),
            description: DriverRegistry.describe(vendor: device.vendorID, device: device.deviceID)
                ?? Format.className(device.classCode),
            driver: OrNull(info?.driver), uioIndex: OrNull(info?.uioIndex),
            swiftUIODriver: OrNull(DriverRegistry.driver(vendor: device.vendorID, device: device.deviceID)?.rawValue))
    }

    static func status(_ info: PCIDeviceInfo, sysfs: Sysfs) -> DeviceStatus {
        let kind = DriverRegistry.driver(vendor: info.vendorID, device: info.deviceID)
        var uio: UIODeviceInfo?
        var uioProblem: String?
        if let index = info.uioIndex {
            do { uio = try UIODeviceInfo(index: index, sysfs: sysfs) } catch { uioProblem = "uio\(index) unreadable: \(error)" }
        } else {
            uioProblem = UIOError.notBoundToUIO(info.address, driver: info.driver).description
        }
        let bars = info.bars.map { bar -> BAR in
            let access = BARMapping.plan(bar: bar, device: info.address, uio: uio, portIOPermitted: true, sysfs: sysfs)
            let fallback = BARMapping.plan(bar: bar, device: info.address, uio: uio, portIOPermitted: false, sysfs: sysfs)
            let kind = switch bar.kind { case .memory32: "memory32"; case .memory64: "memory64"; case .ioPorts: "io-ports" }
            return BAR(index: bar.index, kind: kind, prefetchable: bar.prefetchable, start: hex(bar.start, width: 1),
                       size: bar.size, access: (bar.kind == .ioPorts ? access : fallback).description,
                       fallbackAccess: OrNull(bar.kind == .ioPorts && fallback != access ? fallback.description : nil))
        }
        return DeviceStatus(
            address: info.address.description,
            vendorID: hex(info.vendorID, width: 4), deviceID: hex(info.deviceID, width: 4),
            classCode: hex(info.classCode, width: 6),
            description: DriverRegistry.describe(vendor: info.vendorID, device: info.deviceID) ?? Format.className(info.classCode),
            driver: OrNull(info.driver),
            swiftUIODriver: OrNull(kind?.rawValue),
            unsupportedReason: OrNull(kind == nil ? DriverRegistry.unsupported(vendor: info.vendorID, device: info.deviceID).description : nil),
            uio: OrNull(uio.map { node in
                UIONode(index: node.index, name: node.name, version: node.version, devicePath: node.devicePath,
                        interruptCount: node.eventCount,
                        maps: node.maps.map { Map(index: $0.index, name: $0.name, address: hex($0.address, width: 1), size: $0.size, offset: $0.offset) },
                        ports: node.ports.map { Ports(index: $0.index, name: $0.name, start: hex($0.start, width: 4), size: $0.size, portType: $0.portType) })
            }),
            uioProblem: OrNull(uioProblem),
            bars: bars,
            interruptRearm: InterruptRearmMethod.forUIODriver(named: uio?.name ?? "uio_pci_generic").rawValue)
    }

    /// Pretty, with sorted keys, so that the output diffs well and tests can compare it.
    static func render<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
