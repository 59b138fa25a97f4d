import IntelNIC
import UIO

/// The driver for Intel 82599 and X540 10 GbE controllers, after the 82599 datasheet and
/// ixy's `ixgbe.c`: the Intel device core (`IntelDevice`: advanced descriptors, one mempool
/// per RX queue, queue pairs, statistics, shutdown) over the 82599's own registers and init
/// sequence (``IxgbeChip``), with legacy INTx interrupts through EICR, and with several RX
/// queues RSS spreading flows over them (`IxgbeChip.initRSS`).
///
/// Generic over the PCI function (a real UIO device or a simulated one) and the DMA allocator,
/// so the same code runs, specialised, on hardware and in the simulator.
public typealias IxgbeDevice<Function: PCIFunction & ~Copyable, Allocator: DMAAllocator> =
    IntelDevice<IxgbeChip<Function.Registers>, Function, Allocator>

extension IntelDevice where Function: ~Copyable, Chip == IxgbeChip<Function.Registers> {
    /// 82599 or X540, from the device ID.
    public var family: IxgbeFamily { chip.family }
}
