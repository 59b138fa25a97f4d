import Foundation
import Testing
@testable import UIO

@Suite struct InterruptLineTests {
    @Test(arguments: [
        ("uio_pci_generic", InterruptRearmMethod.pciCommand),
        ("igb_uio", .irqControl),
        ("uio_hv_generic", .irqControl),
    ])
    func choosesTheRearmMethodByDriverName(name: String, method: InterruptRearmMethod) {
        #expect(InterruptRearmMethod.forUIODriver(named: name) == method)
    }

    /// A fake `/dev/uio0` (a FIFO) and the device's fake config space, INTx masked.
    func tree() throws -> FakeSysfs {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              driver: "uio_pci_generic", uioIndex: 0,
                              config: FakeSysfs.configSpace(vendor: 0x1af4, device: 0x1000,
                                                            command: PCIConfig.commandInterruptDisable | PCIConfig.commandBusMaster))
        try tree.addUIONode(index: 0, fifo: true)
        return tree
    }

    /// Plays the kernel: one 4-byte native-endian count per interrupt.
    func fire(_ fd: CInt, count: UInt32) {
        var value = count
        #expect(write(fd, &value, 4) == 4)
    }

    @Test func waitReturnsCountsAndReportsMissedInterrupts() throws {
        let tree = try tree()
        var line = try UIOInterruptLine(devicePath: tree.path("/dev/uio0"), method: .irqControl, config: nil)
        // The line holds the FIFO open read-write, so this open does not block.
        let kernel = open(tree.path("/dev/uio0"), O_WRONLY)
        try #require(kernel >= 0)
        defer { close(kernel) }

        fire(kernel, count: 1)
        #expect(try line.wait(timeout: .milliseconds(500)) == InterruptEvent(count: 1, missed: 0))
        fire(kernel, count: 2)
        #expect(try line.wait(timeout: .milliseconds(500)) == InterruptEvent(count: 2, missed: 0))
        fire(kernel, count: 5)  // jumped by 3: two came and went unseen
        #expect(try line.wait(timeout: .milliseconds(500)) == InterruptEvent(count: 5, missed: 2))
    }

    @Test func aShortReadIsReportedNotMisreadAsErrno() throws {
        let tree = try tree()
        var line = try UIOInterruptLine(devicePath: tree.path("/dev/uio0"), method: .irqControl, config: nil)
        let writer = open(tree.path("/dev/uio0"), O_WRONLY)
        try #require(writer >= 0)
        defer { close(writer) }
        var half: UInt16 = 1
        #expect(write(writer, &half, 2) == 2)
        #expect(throws: UIOError.device("read 2 bytes from \(tree.path("/dev/uio0")), expected a 4-byte interrupt count: is it a UIO device?")) {
            _ = try line.wait(timeout: .milliseconds(500))
        }
    }

    @Test func waitTimesOutWithNil() throws {
        let tree = try tree()
        var line = try UIOInterruptLine(devicePath: tree.path("/dev/uio0"), method: .irqControl, config: nil)
        let start = ContinuousClock.now
        #expect(try line.wait(timeout: .milliseconds(50)) == nil)
        #expect(ContinuousClock.now - start >= .milliseconds(40))
    }

    @Test func rearmThroughPCICommandClearsInterruptDisable() throws {
        let tree = try tree()
        let configPath = "/sys/bus/pci/devices/0000:00:04.0/config"
        var line = try UIOInterruptLine(devicePath: tree.path("/dev/uio0"), method: .pciCommand,
                                        config: try PCIConfigSpace(path: tree.path(configPath)))
        try line.rearm()
        let bytes = try tree.read(configPath)
        #expect(UInt16(bytes[4]) | UInt16(bytes[5]) << 8 == PCIConfig.commandBusMaster)
    }

    @Test func pciCommandRearmNeedsConfigSpace() throws {
        let tree = try tree()
        #expect(throws: UIOError.device("re-arming through PCI_COMMAND needs the device's config space")) {
            _ = try UIOInterruptLine(devicePath: tree.path("/dev/uio0"), method: .pciCommand, config: nil)
        }
    }

    @Test func aMissingDeviceNodeNamesThePath() throws {
        let tree = try FakeSysfs()
        let path = tree.path("/dev/uio7")
        #expect(throws: UIOError.systemCall("open", path: path, errno: ENOENT)) {
            _ = try UIOInterruptLine(devicePath: path, method: .irqControl, config: nil)
        }
    }
}
