/// A PCI function as a driver sees it: identity, config space, BARs and one interrupt line.
///
/// `UIOPCIDevice` implements it for real hardware bound to UIO; `UIOSimulator` implements it
/// with device models. Drivers are generic over it and own it: when a driver is destroyed,
/// the function (and with it `/dev/uioN` and the mappings) goes too.
public protocol PCIFunction: ~Copyable {
    associatedtype Registers: RegisterAccess

    var address: PCIAddress { get }
    var vendorID: UInt16 { get }
    var deviceID: UInt16 { get }

    func readConfig<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T
    func writeConfig<T: FixedWidthInteger>(_ value: T, at offset: Int) throws

    /// Maps BAR `index` (memory or I/O ports). The result is valid while `self` lives.
    mutating func mapBAR(_ index: Int) throws -> Registers

    /// Blocks until the device interrupts, or `timeout` passes (nil).
    mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent?
    /// Unmasks INTx once the device's interrupt cause has been acknowledged.
    mutating func rearmInterrupt() throws

    /// MSI-X vectors that `waitForInterrupt` waits on (vector v is MSI-X table entry v); 0
    /// means INTx only. A driver programs its device to raise vector 0 for configuration
    /// changes and 1 + q for RX queue q, when there are enough of them.
    var interruptVectors: Int { get }

    /// File descriptors that poll(2) reports readable when `waitForInterrupt` would return at
    /// once: one loop can then sleep on several devices (`DevicePair`). Empty when there are none.
    var interruptDescriptors: [Int32] { get }
}

extension PCIFunction where Self: ~Copyable {
    /// UIO's `uio_pci_generic` offers INTx only.
    public var interruptVectors: Int { 0 }

    public var interruptDescriptors: [Int32] { [] }

    /// Turns on memory and I/O decoding and bus mastering (DMA). uio_pci_generic leaves
    /// Bus Master off, and clears it again when `/dev/uioN` is closed.
    public func enableDMA() throws {
        let command = try readConfig(UInt16.self, at: PCIConfig.command)
        let wanted = PCIConfig.commandBusMaster | PCIConfig.commandMemorySpace | PCIConfig.commandIOSpace
        if command & wanted != wanted { try writeConfig(command | wanted, at: PCIConfig.command) }
    }

    public func disableDMA() throws {
        let command = try readConfig(UInt16.self, at: PCIConfig.command)
        try writeConfig(command & ~PCIConfig.commandBusMaster, at: PCIConfig.command)
    }

    /// Walks the capability list (PCI 3.0 §6.7) and returns the offsets of capabilities with `id`.
    public func capabilities(withID id: UInt8) throws -> [Int] {
        let status = try readConfig(UInt16.self, at: PCIConfig.status)
        guard status & PCIConfig.statusCapabilitiesList != 0 else { return [] }
        var offsets: [Int] = []
        var next = Int(try readConfig(UInt8.self, at: PCIConfig.capabilitiesPointer) & 0xfc)
        var guardCount = 0
        while next >= 0x40 && guardCount < 48 {  // bounded: a malformed list can loop
            if try readConfig(UInt8.self, at: next) == id { offsets.append(next) }
            next = Int(try readConfig(UInt8.self, at: next + 1) & 0xfc)
            guardCount += 1
        }
        return offsets
    }
}
