/// One interrupt event as a UIO node reports it.
public struct InterruptEvent: Sendable, Equatable {
    /// The node's total interrupt count (the 4 bytes a `read()` of `/dev/uioN` returns).
    public let count: UInt32
    /// Interrupts that came and went since the previous wait (count jumps above 1).
    public let missed: UInt32

    public init(count: UInt32, missed: UInt32) {
        self.count = count
        self.missed = missed
    }
}

/// An interrupt line a driver waits on: `/dev/uioN` on a real system, or a simulated line.
///
/// The INTx protocol: the line fires, the kernel (or the model) masks it, the waiter wakes,
/// the driver acknowledges the device's cause, then calls `rearm()` to unmask.
public protocol InterruptLine: ~Copyable {
    /// Blocks until the next interrupt, or until `timeout` passes (then returns nil).
    /// A nil timeout waits forever.
    mutating func wait(timeout: Duration?) throws -> InterruptEvent?
    /// Unmasks the line after the device's cause has been acknowledged.
    mutating func rearm() throws
}

/// How a UIO driver wants its interrupt re-enabled.
public enum InterruptRearmMethod: String, Sendable, CaseIterable {
    /// `uio_pci_generic` has no irqcontrol (a write returns ENOSYS): clear PCI_COMMAND
    /// bit 10 (Interrupt Disable) through the sysfs `config` file.
    case pciCommand = "pci-command"
    /// Drivers with irqcontrol (igb_uio-like) take a 4-byte write of 1 to `/dev/uioN`.
    case irqControl = "irqcontrol"

    /// The method a UIO driver needs, chosen by the node's `name`.
    public static func forUIODriver(named name: String) -> InterruptRearmMethod {
        name == "uio_pci_generic" ? .pciCommand : .irqControl
    }
}
