/// A device model behind a simulated PCI function: it owns the config space and answers
/// register accesses on its BARs.
///
/// Register accesses come from the driver's thread and must be cheap and free of side work:
/// a model records what the driver asked for (a doorbell, a status change) and does its DMA
/// later, when the test or a background runner calls it to. That keeps the driver's cost
/// measurable apart from the model's.
public protocol SimulatedDeviceModel: AnyObject, Sendable {
    var configSpace: SimulatedConfigSpace { get }
    /// `width` is 1, 2 or 4 bytes; the result is zero-extended.
    func readRegister(bar: Int, offset: Int, width: Int) -> UInt32
    func writeRegister(bar: Int, offset: Int, width: Int, value: UInt32)
}

extension SimulatedDeviceModel {
    public var interruptLine: SimulatedInterruptLine { configSpace.interruptLine }
}
