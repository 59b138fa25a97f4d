/// Feature bits of virtio-net (virtio 1.0 §5.1.3, §6). Only the ones the model implements.
public struct VirtioNetFeatures: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let mac = VirtioNetFeatures(rawValue: 1 << 5)
    public static let mergeableRXBuffers = VirtioNetFeatures(rawValue: 1 << 15)
    public static let status = VirtioNetFeatures(rawValue: 1 << 16)
    public static let controlVQ = VirtioNetFeatures(rawValue: 1 << 17)
    public static let controlRX = VirtioNetFeatures(rawValue: 1 << 18)
    /// VIRTIO_NET_F_MQ (virtio 1.0 §5.1.3): several queue pairs; offered when the model is
    /// configured with more than one (QEMU: mq=on).
    public static let multiQueue = VirtioNetFeatures(rawValue: 1 << 22)
    /// Legacy only: the header may share a descriptor with the frame (virtio 1.0 §2.4.4.3).
    public static let anyLayout = VirtioNetFeatures(rawValue: 1 << 27)
    public static let version1 = VirtioNetFeatures(rawValue: 1 << 32)

    /// What QEMU's virtio-net offers, less the offloads the model does not implement.
    public static let legacyDefault: VirtioNetFeatures = [.mac, .mergeableRXBuffers, .status, .controlVQ, .controlRX, .anyLayout]
    public static let modernDefault: VirtioNetFeatures = [.mac, .mergeableRXBuffers, .status, .controlVQ, .controlRX, .version1]

    public var description: String {
        let names: [(VirtioNetFeatures, String)] = [
            (.mac, "MAC"), (.mergeableRXBuffers, "MRG_RXBUF"), (.status, "STATUS"), (.controlVQ, "CTRL_VQ"),
            (.controlRX, "CTRL_RX"), (.multiQueue, "MQ"), (.anyLayout, "ANY_LAYOUT"), (.version1, "VERSION_1"),
        ]
        var parts = names.filter { contains($0.0) }.map(\.1)
        let unknown = rawValue & ~names.reduce(0) { $0 | $1.0.rawValue }
        if unknown != 0 { parts.append("0x" + String(unknown, radix: 16)) }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
