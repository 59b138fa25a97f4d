/// Something a driver did that a real 82599 would not accept, or would answer with a PCIe
/// error. The model records it (`IxgbeModel.faults`) instead of crashing, so a test can assert
/// there were none.
public enum IxgbeFault: Error, Equatable, Sendable, CustomStringConvertible {
    /// A descriptor ring or buffer address outside any memory the DMA allocator gave out.
    /// Fatal: the device stops DMA until the next reset, as after a real IOMMU fault.
    case dmaOutsideMemory(address: UInt64, length: Int, what: String)
    /// A head or tail beyond the ring, a ring length that is not a multiple of 128. Fatal.
    case badRing(queue: String, reason: String)
    /// A register access that is not 32 bits wide, or to a read-only register.
    case register(String)
    /// The driver broke a rule of the datasheet that the model can carry on after.
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
            return "\(queue): \(reason)"
        case .register(let what):
            return "register access: \(what)"
        case .protocolViolation(let what):
            return "82599 datasheet: \(what)"
        }
    }
}
