import UIO

/// A PCI function backed by a device model: what a driver owns in place of a `UIOPCIDevice`.
///
/// It behaves like a function bound to `uio_pci_generic`: decoding is on and Bus Master off
/// when it is handed out; interrupts are INTx, masked by the "kernel" through PCI_COMMAND
/// bit 10 and re-armed by clearing that bit; and destroying it (closing `/dev/uioN`) clears
/// Bus Master, which stops the model's DMA.
public struct SimulatedPCIFunction<Model: SimulatedDeviceModel>: ~Copyable, PCIFunction {
    public let model: Model
    public let address: PCIAddress
    /// The event count this "open file" last returned, as each open `/dev/uioN` keeps its own.
    private var seenInterrupts: UInt32

    public init(model: Model, address: PCIAddress = PCIAddress(bus: 0, device: 4, function: 0)) {
        self.model = model
        self.address = address
        self.seenInterrupts = model.interruptLine.count
    }

    deinit { model.configSpace.clearBusMaster() }

    public var vendorID: UInt16 { (try? model.configSpace.read(UInt16.self, at: 0)) ?? 0xffff }
    public var deviceID: UInt16 { (try? model.configSpace.read(UInt16.self, at: 2)) ?? 0xffff }

    public func readConfig<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
        try model.configSpace.read(T.self, at: offset)
    }

    public func writeConfig<T: FixedWidthInteger>(_ value: T, at offset: Int) throws {
        try model.configSpace.write(value, at: offset)
    }

    /// BAR `index`, if the model has one there (the upper half of a 64-bit BAR is not a BAR).
    public mutating func mapBAR(_ index: Int) throws -> SimulatedRegisters<Model> {
        let bars = model.configSpace.header.bars
        guard bars.indices.contains(index), bars[index] != nil else { throw UIOError.noSuchBAR(address, index: index) }
        return SimulatedRegisters(model: model, bar: index)
    }

    public var interruptDescriptors: [Int32] { [model.interruptLine.eventDescriptor] }

    public mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? {
        guard let count = model.interruptLine.wait(after: seenInterrupts, timeout: timeout) else { return nil }
        let missed = count &- seenInterrupts &- 1
        seenInterrupts = count
        return InterruptEvent(count: count, missed: missed)
    }

    /// Clears PCI_COMMAND bit 10 by a read-modify-write of the config space, exactly as
    /// `UIOInterruptLine` does for `uio_pci_generic`.
    public mutating func rearmInterrupt() throws {
        let command = try readConfig(UInt16.self, at: PCIConfig.command)
        if command & PCIConfig.commandInterruptDisable != 0 {
            try writeConfig(command & ~PCIConfig.commandInterruptDisable, at: PCIConfig.command)
        }
    }
}
