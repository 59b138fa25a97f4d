import Glibc
import Testing
@testable import UIO

/// A PCIFunction that has only config space (a fake sysfs `config` file), to exercise the
/// protocol's default methods: DMA enabling and the capability walk.
struct ConfigOnlyFunction: ~Copyable, PCIFunction {
    let config: PCIConfigSpace
    var address: PCIAddress { PCIAddress(bus: 0, device: 4, function: 0) }
    var vendorID: UInt16 { 0x1af4 }
    var deviceID: UInt16 { 0x1000 }

    func readConfig<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T { try config.read(T.self, at: offset) }
    func writeConfig<T: FixedWidthInteger>(_ value: T, at offset: Int) throws { try config.write(value, at: offset) }
    mutating func mapBAR(_ index: Int) throws -> DeviceRegion { throw UIOError.noSuchBAR(address, index: index) }
    mutating func waitForInterrupt(timeout: Duration?) throws -> InterruptEvent? { nil }
    mutating func rearmInterrupt() throws {}
}

@Suite struct PCIConfigSpaceTests {
    let address = "/sys/bus/pci/devices/0000:00:04.0"

    func tree(command: UInt16 = 0, capabilities: [(offset: UInt8, id: UInt8)] = []) throws -> FakeSysfs {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              config: FakeSysfs.configSpace(vendor: 0x1af4, device: 0x1000, command: command, capabilities: capabilities))
        return tree
    }

    @Test func readsLittleEndianFields() throws {
        let tree = try tree()
        let config = try PCIConfigSpace(address: PCIAddress(parsing: "00:04.0"), sysfs: tree.sysfs)
        #expect(try config.read(UInt16.self, at: 0) == 0x1af4)
        #expect(try config.read(UInt32.self, at: 0) == 0x1000_1af4)
    }

    @Test func setsAndClearsCommandBits() throws {
        let tree = try tree(command: PCIConfig.commandInterruptDisable)
        let config = try PCIConfigSpace(path: tree.path(address + "/config"))
        try config.setCommandBits(PCIConfig.commandBusMaster | PCIConfig.commandMemorySpace)
        #expect(try config.read(UInt16.self, at: PCIConfig.command) == 0x0406)
        try config.clearCommandBits(PCIConfig.commandInterruptDisable)
        #expect(try config.read(UInt16.self, at: PCIConfig.command) == 0x0006)
        // The file itself holds the change, little-endian, and nothing else moved.
        let bytes = try tree.read(address + "/config")
        #expect(bytes[4] == 0x06 && bytes[5] == 0x00)
        #expect(bytes[0] == 0xf4 && bytes.count == 256)
    }

    @Test func readingPastTheEndIsAnError() throws {
        let tree = try tree()
        let config = try PCIConfigSpace(path: tree.path(address + "/config"))
        #expect(throws: UIOError.self) { try config.read(UInt32.self, at: 256) }
    }

    @Test func aMissingConfigFileNamesThePath() throws {
        let tree = try FakeSysfs()
        let path = tree.path("/sys/bus/pci/devices/0000:00:09.0/config")
        #expect(throws: UIOError.systemCall("open", path: path, errno: ENOENT)) { _ = try PCIConfigSpace(path: path) }
    }

    @Test func enableDMASetsBusMasterAndDecoding() throws {
        let tree = try tree()
        let function = ConfigOnlyFunction(config: try PCIConfigSpace(path: tree.path(address + "/config")))
        try function.enableDMA()
        #expect(try function.readConfig(UInt16.self, at: PCIConfig.command) == 0x0007)
        try function.disableDMA()
        #expect(try function.readConfig(UInt16.self, at: PCIConfig.command) == 0x0003)
    }

    @Test func walksTheCapabilityList() throws {
        let tree = try tree(capabilities: [(0x40, 0x09), (0x50, 0x11), (0x60, 0x09)])
        let function = ConfigOnlyFunction(config: try PCIConfigSpace(path: tree.path(address + "/config")))
        #expect(try function.capabilities(withID: PCIConfig.capabilityVendorSpecific) == [0x40, 0x60])
        #expect(try function.capabilities(withID: 0x11) == [0x50])
        #expect(try function.capabilities(withID: 0x05) == [])
    }

    @Test func noCapabilitiesWithoutTheStatusBit() throws {
        let tree = try tree()
        let function = ConfigOnlyFunction(config: try PCIConfigSpace(path: tree.path(address + "/config")))
        #expect(try function.capabilities(withID: 0x09) == [])
    }

    @Test func aLoopingCapabilityListEnds() throws {
        var bytes = FakeSysfs.configSpace(vendor: 0x1af4, device: 0x1000, capabilities: [(0x40, 0x09)])
        bytes[0x41] = 0x40  // points at itself
        let tree = try FakeSysfs()
        try tree.write(address + "/config", bytes: bytes)
        let function = ConfigOnlyFunction(config: try PCIConfigSpace(path: tree.path(address + "/config")))
        #expect(try function.capabilities(withID: 0x09).count == 48)
    }
}
