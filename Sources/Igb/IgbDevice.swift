import IntelNIC
import UIO

/// The driver for the Intel 82576 gigabit controller (Linux's igb), after the 82576
/// datasheet: the Intel device core (`IntelDevice`: advanced descriptors, one mempool per RX
/// queue, queue pairs, statistics, shutdown) over the 82576's own registers and init sequence
/// (``IgbChip``), with legacy INTx interrupts through ICR/IMS, and with several RX queues RSS
/// spreading flows over them (`IgbChip.initRSS`).
///
/// Generic over the PCI function (a real UIO device or a simulated one) and the DMA
/// allocator, so the same code runs, specialised, on hardware and in tests.
public typealias IgbDevice<Function: PCIFunction & ~Copyable, Allocator: DMAAllocator> =
    IntelDevice<IgbChip<Function.Registers>, Function, Allocator>

extension IntelDevice where Function: ~Copyable, Chip == IgbChip<Function.Registers> {
    /// Copper (internal PHY) or SerDes, from the device ID.
    public var part: IgbPart { chip.part }
    /// Whether EECD.AUTO_RD was seen after the reset (QEMU's igb never sets it).
    public var eepromAutoReadDone: Bool { chip.eepromAutoReadDone }
}
