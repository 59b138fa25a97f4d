/// An IPv4 address with an optional prefix length, as `--ip 192.0.2.2/24` gives it.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt32
    public let prefixLength: Int

    public init(_ value: UInt32, prefixLength: Int = 32) {
        self.value = value
        self.prefixLength = prefixLength
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for o in octets {
            guard o.count <= 3, o.allSatisfy(\.isNumber), let b = UInt8(o) else { return nil }
            value = value << 8 | UInt32(b)
        }
        var prefix = 32
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...32).contains(p) else { return nil }
            prefix = p
        }
        self.init(value, prefixLength: prefix)
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }
}
