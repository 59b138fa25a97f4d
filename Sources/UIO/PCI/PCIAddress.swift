/// A PCI function's address, `DDDD:BB:DD.F` (domain, bus, device, function), as sysfs names it.
public struct PCIAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let domain: UInt16
    public let bus: UInt8
    public let device: UInt8
    public let function: UInt8

    public init(domain: UInt16 = 0, bus: UInt8, device: UInt8, function: UInt8) {
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// Parses `DDDD:BB:DD.F`, or the short `BB:DD.F` (domain 0) that lspci prints.
    public init(parsing text: String) throws {
        func fail(_ reason: String) -> UIOError { .invalidPCIAddress(text, reason: reason) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { throw fail("it needs two or three ':'-separated fields") }
        let slot = parts[parts.count - 1].split(separator: ".", omittingEmptySubsequences: false)
        guard slot.count == 2 else { throw fail("the device and function must be separated by '.'") }
        func field(_ s: Substring, _ name: String, digits: Int, max: Int) throws -> Int {
            guard !s.isEmpty, s.count <= digits, let v = Int(s, radix: 16), s.allSatisfy(\.isHexDigit) else {
                throw fail("\(name) '\(s)' is not a hex number of at most \(digits) digits")
            }
            guard v <= max else { throw fail("\(name) \(s) is above \(String(max, radix: 16))") }
            return v
        }
        domain = parts.count == 3 ? UInt16(try field(parts[0], "domain", digits: 4, max: 0xffff)) : 0
        bus = UInt8(try field(parts[parts.count - 2], "bus", digits: 2, max: 0xff))
        device = UInt8(try field(slot[0], "device", digits: 2, max: 0x1f))
        function = UInt8(try field(slot[1], "function", digits: 1, max: 7))
    }

    public var description: String {
        "\(hex(domain, width: 4)):\(hex(bus, width: 2)):\(hex(device, width: 2)).\(function)"
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool {
        (a.domain, a.bus, a.device, a.function) < (b.domain, b.bus, b.device, b.function)
    }
}
