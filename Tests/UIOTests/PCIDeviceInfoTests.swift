import Testing
@testable import UIO

@Suite struct PCIDeviceInfoTests {
    @Test func parsesALegacyVirtioNetResourceFile() throws {
        let bars = try PCIBar.parse(resourceFile: ResourceFixtures.legacyVirtioNet, path: "resource")
        #expect(bars == [
            PCIBar(index: 0, start: 0xc000, size: 0x20, kind: .ioPorts, prefetchable: false),
            PCIBar(index: 1, start: 0xfebf_1000, size: 0x1000, kind: .memory32, prefetchable: false),
        ])
    }

    @Test func parsesAModern64BitPrefetchableBAR() throws {
        let bars = try PCIBar.parse(resourceFile: ResourceFixtures.modernVirtioNet, path: "resource")
        #expect(bars.map(\.index) == [0, 1, 4])  // the ROM (line 6) is not a BAR
        #expect(bars.last == PCIBar(index: 4, start: 0xfe00_0000, size: 0x4000, kind: .memory64, prefetchable: true))
    }

    @Test func rejectsAGarbledLine() {
        #expect(throws: UIOError.malformedSysfs(path: "resource", content: "0xc000 0xc01f")) {
            try PCIBar.parse(resourceFile: "0xc000 0xc01f\n", path: "resource")
        }
    }

    @Test func readsIDsDriverAndUIONodeFromSysfs() throws {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              driver: "uio_pci_generic", uioIndex: 2)
        let info = try PCIDeviceInfo(address: PCIAddress(parsing: "00:04.0"), sysfs: tree.sysfs)
        #expect(info.vendorID == 0x1af4)
        #expect(info.deviceID == 0x1000)
        #expect(info.classCode == 0x020000)
        #expect(info.isNetworkController)
        #expect(info.driver == "uio_pci_generic")
        #expect(info.uioIndex == 2)
        #expect(info.bar(1)?.kind == .memory32)
        #expect(info.bar(2) == nil)
    }

    @Test func aMissingDeviceIsNoSuchDevice() throws {
        let tree = try FakeSysfs()
        let address = try PCIAddress(parsing: "0000:00:09.0")
        #expect(throws: UIOError.noSuchDevice(address)) { try PCIDeviceInfo(address: address, sysfs: tree.sysfs) }
    }

    @Test func listsAllDevicesSorted() throws {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:05.0", vendor: 0x8086, device: 0x10fb, resource: ResourceFixtures.empty)
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet)
        try tree.makeDirectory("/sys/bus/pci/devices/not-an-address")
        #expect(PCIDeviceInfo.all(sysfs: tree.sysfs).map(\.address.description) == ["0000:00:04.0", "0000:00:05.0"])
    }
}
