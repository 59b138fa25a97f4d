import UIO

/// What one Intel NIC family does its own way, for ``IntelDevice`` to drive: the operations
/// table of Linux's e1000/igb/ixgbe drivers (`struct e1000_mac_operations`), as a protocol
/// that the device is generic over, so that every call is specialised and inlinable.
///
/// A family is a register map (its datasheet's register chapter: an enum of offsets and
/// bits, such as `IGB` or `IXGBE`) plus a type conforming to this protocol that holds the
/// mapped BAR0 and implements, step by step and with the datasheet's section numbers, the
/// reset and initialisation sequence, the link, the interrupt cause registers, the counters,
/// promiscuous mode and the stop sequence. Rings, buffers, queue pairs, receive and
/// transmit, statistics totals and shutdown are shared, in ``IntelDevice``.
///
/// ``IntelDevice/init(function:allocator:configuration:)`` calls the bring-up steps in this
/// order: ``identify(vendorID:deviceID:)`` (before any register access), `init`,
/// ``reset()``, then Bus Master on, ``initLink()``, ``clearStatistics()``, the rings are
/// allocated, ``startQueues(_:ringSize:)``, ``initInterrupts(rxQueues:throttleMicroseconds:)``,
/// and the wait for ``readLink()`` to report the link up.
public protocol IntelChip {
    /// The register access the chip's BAR0 is mapped with (hardware or a simulated model).
    associatedtype Registers: RegisterAccess
    /// The family's name and configuration limits (``IntelConfiguration``).
    associatedtype Limits: IntelFamilyLimits
    /// What the PCI device ID says about the part (the family member, or copper or SerDes).
    associatedtype Part: Sendable

    /// The part that `vendorID`:`deviceID` names. Throws `UIOError.unsupportedDevice` for an
    /// ID the driver does not know. Called before BAR0 is mapped.
    static func identify(vendorID: UInt16, deviceID: UInt16) throws -> Part

    /// The chip around its mapped BAR0. No register access yet. `name` ("igb 0000:00:04.0")
    /// goes into error messages.
    init(registers: Registers, part: Part, deviceID: UInt16, name: String)

    /// The mapped BAR0, which the shared hot path writes the tail registers through.
    var registers: Registers { get }

    // MARK: Bring-up, in this order

    /// Before Bus Master is enabled: interrupts masked, DMA stopped (a crashed process may
    /// have left the device running), global reset, and the wait for the NVM auto-read.
    /// Throws if the reset does not complete; nothing has been allocated then.
    mutating func reset() throws
    /// After Bus Master: the link set-up the family and the board need (PHY, link mode).
    func initLink() throws
    /// Receive and transmit in the family's datasheet order: every ring programmed, filled
    /// from its pool (`IntelQueues.fill(rx:name:)`) and enabled, receive and transmit on.
    /// On a throw the device stops the chip and frees the rings.
    func startQueues(_ queues: IntelQueues, ringSize: Int) throws
    /// Legacy INTx (no MSI-X: uio_pci_generic has none), the throttle, and only the link
    /// change cause unmasked; receive causes stay masked until the scheduler arms them.
    func initInterrupts(rxQueues: Int, throttleMicroseconds: Int)

    // MARK: Running

    /// Whether the link is up, and at what speed, from the family's status register.
    func readLink() -> LinkStatus
    /// The RX tail register of queue `queue` (RDT), which the hot path writes once a batch.
    static func rxTail(_ queue: Int) -> Int
    /// The TX tail register of queue `queue` (TDT), which the hot path writes once a batch.
    static func txTail(_ queue: Int) -> Int
    /// How queue `queue` arms and masks its receive interrupt, when `owners` threads arm
    /// their queues independently (1: the device's own loop; n: n detached queue pairs).
    func receiveInterrupt(queue: Int, owners: Int) -> IntelQueueInterrupt
    /// Reads (and so clears) the interrupt cause register: bit q of `queues` for each of the
    /// `rxQueues` queues that may have work, and whether the link changed.
    func readInterruptCauses(rxQueues: Int) -> InterruptCauses
    /// The read-to-clear counters since the last read, octets as the device counts them.
    func readStatistics() -> DeviceStatistics
    /// Whether the receive octets of ``readStatistics()`` include each frame's 4-byte CRC
    /// (which ``IntelDevice`` then takes off). The transmit octets always do (GOTC counts
    /// "through the CRC field" on every family).
    static var receiveOctetsIncludeFCS: Bool { get }
    /// The unicast and multicast promiscuous bits (UPE, MPE) and the register that holds
    /// them: set, the device accepts every frame (``setPromiscuous(_:)``).
    static var promiscuousBits: (register: Int, bits: UInt32) { get }
    /// The registers of receive address 0, which the device loads from the NVM: bytes 0…3
    /// of the MAC address in `low` (RAL), bytes 4 and 5 in the low half of `high` (RAH).
    static var macAddressRegisters: (low: Int, high: Int) { get }
    /// What the set-up found about the part, first in the device's `setupDetails`.
    var setupDetails: [(String, String)] { get }

    // MARK: Shutdown

    /// Queues off, interrupts masked, DMA stopped and a reset: afterwards the device does no
    /// DMA. Never throws: the caller clears Bus Master next anyway.
    func stop(rxQueues: Int, txQueues: Int)
}

extension IntelChip {
    /// Accept every unicast and multicast frame (``promiscuousBits`` set), or only the
    /// device's own and broadcast (cleared).
    public func setPromiscuous(_ enabled: Bool) {
        let (register, bits) = Self.promiscuousBits
        if enabled { registers.setBits32(register, bits) } else { registers.clearBits32(register, bits) }
    }

    /// Reads every counter once: they are read-to-clear, so this zeroes them.
    public func clearStatistics() {
        _ = readStatistics()
    }

    /// Receive address 0 (``macAddressRegisters``), which the device loads from the NVM.
    public func readMACAddress() -> MACAddress {
        let low = registers.read32(Self.macAddressRegisters.low), high = registers.read32(Self.macAddressRegisters.high)
        return MACAddress(UInt8(truncatingIfNeeded: low), UInt8(truncatingIfNeeded: low >> 8),
                          UInt8(truncatingIfNeeded: low >> 16), UInt8(truncatingIfNeeded: low >> 24),
                          UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: high >> 8))
    }

    /// Polls ``readLink()`` until the link is up or `timeout` passes; a link still down is
    /// reported, not thrown (the link-change interrupt updates it later).
    public func waitForLink(timeout: Duration) -> LinkStatus {
        _ = DeviceWait.until(timeout: timeout, interval: .milliseconds(10)) { readLink().isUp }
        return readLink()
    }
}
