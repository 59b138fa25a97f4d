import UIO

/// The user's choice of NICs for udev, read from `swift-uio.conf` (see udev/README.md).
///
/// One directive per line; `#` starts a comment:
///
///     pci 0000:03:00.0      # one device, by its PCI address (BB:DD.F is accepted too)
///     id  8086:10fb         # every device with this vendor:device ID
///     group uio             # who gets /dev/uioN, config and resourceN (mode 0660); default uio
///     driver uio_pci_generic  # the UIO driver to route them to; default uio_pci_generic
public struct UdevConfig: Equatable, Sendable {
    /// One chosen device: by PCI address (`pci` line) or by vendor:device ID (`id` line).
    public enum Match: Equatable, Sendable, CustomStringConvertible {
        case address(PCIAddress)
        case ids(vendor: UInt16, device: UInt16)

        public var description: String {
            switch self {
            case .address(let address): return "pci \(address)"
            case .ids(let vendor, let device): return "id \(hex(vendor)):\(hex(device))"
            }
        }
    }

    public static let defaultGroup = "uio"
    public static let defaultDriver = "uio_pci_generic"
    /// Where `uioctl udev install` keeps its copy, and where `uninstall` finds the devices.
    public static let installedPath = "/etc/swift-uio/swift-uio.conf"

    public var matches: [Match]
    public var group: String
    public var driver: String

    public init(matches: [Match], group: String = defaultGroup, driver: String = defaultDriver) {
        self.matches = matches
        self.group = group
        self.driver = driver
    }

    /// Parses the config text; `source` names the file in error messages.
    public init(parsing text: String, source: String = "swift-uio.conf") throws {
        var matches: [Match] = []
        var group = Self.defaultGroup
        var driver = Self.defaultDriver
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let keyword = words.first else { continue }
            func fail(_ why: String) -> UdevConfigError { UdevConfigError(source: source, line: number + 1, reason: why) }
            guard words.count == 2 else { throw fail("'\(keyword)' takes exactly one value, got \(words.count - 1)") }
            let value = words[1]
            switch keyword {
            case "pci":
                do { matches.append(.address(try PCIAddress(parsing: value))) } catch let error as UIOError {
                    guard case .invalidPCIAddress(_, let reason) = error else { throw error }
                    throw fail("invalid PCI address '\(value)': \(reason)")
                }
            case "id":
                let parts = value.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, parts.allSatisfy({ $0.count == 4 && $0.allSatisfy(\.isHexDigit) }),
                      let vendor = UInt16(parts[0], radix: 16), let device = UInt16(parts[1], radix: 16) else {
                    throw fail("invalid ID '\(value)': expected vendor:device as two 4-digit hex numbers, for example 8086:10fb")
                }
                matches.append(.ids(vendor: vendor, device: device))
            case "group":
                guard Self.isSafeName(value) else { throw fail("invalid group name '\(value)': use letters, digits, '_' and '-'") }
                guard value != "root" else { throw fail("group root: pick a dedicated group (for example uio); its members get root-equivalent access") }
                group = value
            case "driver":
                guard Self.isSafeName(value) else { throw fail("invalid driver name '\(value)'") }
                driver = value
            default:
                throw fail("unknown directive '\(keyword)': expected pci, id, group or driver")
            }
        }
        guard !matches.isEmpty else {
            throw UdevConfigError(source: source, line: nil, reason: "no device chosen: add a line 'pci DDDD:BB:DD.F' or 'id VVVV:DDDD'")
        }
        self.init(matches: matches, group: group, driver: driver)
    }

    /// Whether a device that sysfs shows is one of the chosen ones.
    public func selects(_ info: PCIDeviceInfo) -> Bool {
        matches.contains { match in
            switch match {
            case .address(let address): return address == info.address
            case .ids(let vendor, let device): return vendor == info.vendorID && device == info.deviceID
            }
        }
    }

    /// The chosen devices that are present now.
    public func presentDevices(sysfs: Sysfs) -> [PCIDeviceInfo] {
        PCIDeviceInfo.all(sysfs: sysfs).filter(selects)
    }

    /// Names that are safe inside a udev rule and a shell command line without quoting.
    static func isSafeName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.count <= 32 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}

/// A config file error, naming the file and line.
public struct UdevConfigError: Error, Equatable, CustomStringConvertible {
    public let source: String
    public let line: Int?
    public let reason: String

    public var description: String {
        "\(source)\(line.map { ":\($0)" } ?? ""): \(reason) (see udev/README.md for the format)"
    }
}

func hex<T: BinaryInteger>(_ value: T, width: Int = 4) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
