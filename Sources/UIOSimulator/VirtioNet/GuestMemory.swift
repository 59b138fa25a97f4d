/// The device's view of driver memory: every access goes through `SimulatedDMA.translate`,
/// and an address the driver never allocated becomes a `VirtioFault` instead of a crash.
struct GuestMemory {
    let dma: SimulatedDMA

    func pointer(_ address: UInt64, _ length: Int, _ what: @autoclosure () -> String) throws(VirtioFault) -> UnsafeMutableRawPointer {
        guard let p = dma.translate(physical: address, length: length) else {
            throw .dmaOutsideMemory(address: address, length: length, what: what())
        }
        return p
    }

    func load<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64, _ what: @autoclosure () -> String) throws(VirtioFault) -> T {
        T(littleEndian: try pointer(address, MemoryLayout<T>.size, what()).loadUnaligned(as: T.self))
    }

    func store<T: FixedWidthInteger>(_ value: T, at address: UInt64, _ what: @autoclosure () -> String) throws(VirtioFault) {
        try pointer(address, MemoryLayout<T>.size, what()).storeBytes(of: value.littleEndian, as: T.self)
    }
}
