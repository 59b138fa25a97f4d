/// One end of a `Wire`: a simulated NIC that takes frames from the wire and puts its own on it.
///
/// A device's `step()` is its send half then its receive half; `Wire` runs the send halves of
/// both ends before either receive half, so one wire step carries a frame from one driver's
/// TX ring into the other's RX ring, in both directions.
public protocol WirePort: AnyObject, Sendable {
    /// A frame arrives from the wire; the device delivers it (or drops it) in its next step.
    func inject(frame: [UInt8])
    /// Frames sent since the last call, when no sink is set.
    func takeTransmitted() -> [[UInt8]]
    /// Where sent frames go instead of `takeTransmitted()`; nil to collect them again.
    func setTransmitSink(_ sink: (@Sendable ([UInt8]) -> Void)?)
    /// The send half of `step()`: everything up to frames leaving (timers, control commands,
    /// TX rings). Returns the amount of work done (0: none).
    @discardableResult func transmitStep() -> Int
    /// The receive half of `step()`: frames that arrived go into RX rings. Returns frames handled.
    @discardableResult func receiveStep() -> Int
}
