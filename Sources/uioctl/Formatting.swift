import UIO

/// Small text helpers shared by the subcommands.
enum Format {
    static func hex<T: BinaryInteger>(_ value: T, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func ids(_ vendor: UInt16, _ device: UInt16) -> String { "\(hex(vendor, width: 4)):\(hex(device, width: 4))" }

    /// 4096 → "4 KiB", 524288 → "512 KiB", 32 → "32 B".
    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = bytes
        var unit = 0
        while value >= 1024 && value % 1024 == 0 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(value) \(units[unit])"
    }

    static func barKind(_ bar: PCIBar) -> String {
        let kind: String
        switch bar.kind {
        case .ioPorts: kind = "I/O ports"
        case .memory32: kind = "memory, 32-bit"
        case .memory64: kind = "memory, 64-bit"
        }
        return bar.prefetchable ? kind + ", prefetchable" : kind
    }

    /// The PCI class names a network admin is likely to meet (PCI Code and ID Assignment §1).
    static func className(_ classCode: UInt32) -> String {
        switch classCode >> 8 {
        case 0x0200: return "Ethernet controller"
        case 0x0280: return "network controller"
        case let c where c >> 8 == 0x02: return "network controller"
        case let c where c >> 8 == 0x01: return "storage controller"
        case let c where c >> 8 == 0x03: return "display controller"
        case let c where c >> 8 == 0x06: return "bridge"
        case let c where c >> 8 == 0x0c: return "serial bus controller"
        default: return "class \(hex(classCode >> 16, width: 2))"
        }
    }
}
