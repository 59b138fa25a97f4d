import CUIOShim
import Foundation
import Glibc
import UIO

/// A level-triggered INTx line with the interrupt handling of `uio_pci_generic`.
///
/// The model drives the level (for virtio: "ISR is non-zero"). PCI_COMMAND bit 10 (Interrupt
/// Disable) is the mask, and lives here so that the config space and the "kernel handler" see
/// one value. When the line is asserted and not masked, the handler runs, as
/// `uio_pci_generic`'s does (`pci_check_and_mask_intx`, then `uio_event_notify`): it sets the
/// mask, counts one event and wakes the waiters. Clearing the mask while the level is still
/// asserted fires again at once, as a real level-triggered line would.
public final class SimulatedInterruptLine: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var level = false
    private var masked = false
    private var events: UInt32 = 0
    /// Readable while an event is delivered and not yet taken by `wait`, as `/dev/uioN` is
    /// for poll(2): one loop can sleep on several simulated devices (`DevicePair`).
    public let eventDescriptor: Int32

    public init() {
        eventDescriptor = uio_eventfd_nonblocking()
        precondition(eventDescriptor >= 0, "eventfd: \(String(cString: strerror(errno)))")
    }

    deinit { close(eventDescriptor) }

    /// Whether the device asserts the line (PCI status bit 3, Interrupt Status).
    public var isAsserted: Bool { locked { level } }
    /// PCI_COMMAND bit 10: set by the handler, cleared by the driver's re-arm.
    public var isMasked: Bool { locked { masked } }
    /// Total interrupts delivered, the counter a read of `/dev/uioN` returns.
    public var count: UInt32 { locked { events } }

    /// Called by the device model whenever its interrupt condition changes.
    public func setLevel(_ asserted: Bool) {
        locked {
            level = asserted
            deliverIfPending()
        }
    }

    /// Called by the config space when PCI_COMMAND is written.
    func setMasked(_ mask: Bool) {
        locked {
            masked = mask
            deliverIfPending()
        }
    }

    private func deliverIfPending() {
        guard level && !masked else { return }
        masked = true
        events &+= 1
        var one: UInt64 = 1
        _ = write(eventDescriptor, &one, 8)
        condition.broadcast()
    }

    /// Blocks until the event count differs from `seen` (the caller's last value, as each open
    /// file of a UIO node remembers its own), or until `timeout` passes. nil timeout: forever.
    func wait(after seen: UInt32, timeout: Duration?) -> UInt32? {
        condition.lock()
        defer {
            // Whether an event was taken or none was there for this waiter, the descriptor
            // reads empty until the next one.
            var value: UInt64 = 0
            _ = read(eventDescriptor, &value, 8)
            condition.unlock()
        }
        let deadline = timeout.map { Date(timeIntervalSinceNow: Double($0.components.seconds) + Double($0.components.attoseconds) * 1e-18) }
        while events == seen {
            if let deadline {
                if !condition.wait(until: deadline) && events == seen { return nil }
            } else {
                condition.wait()
            }
        }
        return events
    }

    private func locked<R>(_ body: () -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}
