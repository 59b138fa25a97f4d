/// Something a driver did that a real virtio device would not accept. The model records it
/// (`VirtioNetModel.faults`) instead of crashing, so a test can assert there were none.
public enum VirtioFault: Error, Equatable, Sendable, CustomStringConvertible {
    /// A descriptor, ring or buffer address outside any memory the DMA allocator gave out.
    /// Fatal: the device stops (QEMU's `virtio_error`), as it would after a real IOMMU fault.
    case dmaOutsideMemory(address: UInt64, length: Int, what: String)
    /// A malformed descriptor chain or ring index. Fatal, as in QEMU.
    case badRing(queue: Int, reason: String)
    /// A register access of the wrong width, at an unknown offset, or to a read-only register.
    case register(String)
    /// The driver broke the initialisation or message-framing rules of the spec; the device
    /// carries on, as QEMU does, but a stricter device might not.
    case protocolViolation(String)

    public var isFatal: Bool {
        switch self {
        case .dmaOutsideMemory, .badRing: return true
        case .register, .protocolViolation: return false
        }
    }

    public var description: String {
        switch self {
        case .dmaOutsideMemory(let address, let length, let what):
            return "DMA fault: \(what) at physical 0x\(String(address, radix: 16)) (\(length) bytes) is not memory the driver allocated"
        case .badRing(let queue, let reason):
            return "virtqueue \(queue): \(reason)"
        case .register(let what):
            return "register access: \(what)"
        case .protocolViolation(let what):
            return "protocol: \(what)"
        }
    }
}
