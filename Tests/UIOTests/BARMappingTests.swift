import Testing
@testable import UIO

@Suite struct BARMappingTests {
    let device = PCIAddress(bus: 0, device: 4, function: 0)
    let sysfs = Sysfs(root: "/fake")

    func uio(maps: [UIODeviceInfo.Map]) throws -> UIODeviceInfo {
        let tree = try FakeSysfs()
        try tree.addUIONode(index: 0, maps: maps.map { .init(addr: $0.address, size: $0.size, offset: $0.offset) })
        return try UIODeviceInfo(index: 0, sysfs: tree.sysfs)
    }

    @Test func aListedBARUsesItsUIOMap() throws {
        let node = try uio(maps: [
            .init(index: 0, name: "", address: 0xfebf_0000, size: 0x1000, offset: 0),
            .init(index: 1, name: "", address: 0xfebf_1000, size: 0x1000, offset: 0),
        ])
        let bar = PCIBar(index: 1, start: 0xfebf_1000, size: 0x1000, kind: .memory32, prefetchable: false)
        #expect(BARMapping.plan(bar: bar, device: device, uio: node, portIOPermitted: false, sysfs: sysfs) == .uioMap(mapIndex: 1, offset: 0))
    }

    /// uio_pci_generic page-aligns `addr` and reports the rest as `offset`: a small BAR that
    /// starts mid-page is `offset` bytes into the mapping, not twice that.
    @Test func aBARStartingMidPageIsOffsetOnce() throws {
        let node = try uio(maps: [.init(index: 0, name: "", address: 0xfebf_1000, size: 0x1000, offset: 0x800)])
        let bar = PCIBar(index: 2, start: 0xfebf_1800, size: 0x100, kind: .memory32, prefetchable: false)
        #expect(BARMapping.plan(bar: bar, device: device, uio: node, portIOPermitted: false, sysfs: sysfs) == .uioMap(mapIndex: 0, offset: 0x800))
    }

    @Test func aBARWithoutAMapUsesTheResourceFile() throws {
        let node = try uio(maps: [.init(index: 0, name: "", address: 0xfebf_1000, size: 0x1000, offset: 0)])
        let bar = PCIBar(index: 4, start: 0xfe00_0000, size: 0x4000, kind: .memory64, prefetchable: true)
        #expect(BARMapping.plan(bar: bar, device: device, uio: node, portIOPermitted: true, sysfs: sysfs)
            == .resourceFile(path: "/fake/sys/bus/pci/devices/0000:00:04.0/resource4"))
        #expect(BARMapping.plan(bar: bar, device: device, uio: nil, portIOPermitted: true, sysfs: sysfs)
            == .resourceFile(path: "/fake/sys/bus/pci/devices/0000:00:04.0/resource4"))
    }

    @Test func ioPortsUseInstructionsWhenPermittedElseTheFile() {
        let bar = PCIBar(index: 0, start: 0xc000, size: 0x20, kind: .ioPorts, prefetchable: false)
        #expect(BARMapping.plan(bar: bar, device: device, uio: nil, portIOPermitted: true, sysfs: sysfs) == .portInstructions(base: 0xc000))
        #expect(BARMapping.plan(bar: bar, device: device, uio: nil, portIOPermitted: false, sysfs: sysfs)
            == .portFile(path: "/fake/sys/bus/pci/devices/0000:00:04.0/resource0"))
    }

    @Test func describesEachPlan() {
        #expect(BARMapping.uioMap(mapIndex: 1, offset: 0).description == "UIO map1 (mmap offset 1 × page size)")
        #expect(BARMapping.portInstructions(base: 0xc000).description == "port I/O at 0xc000 (ioperm)")
        #expect(BARMapping.portFile(path: "r0").description == "pread/pwrite r0 (no ioperm: one syscall per access)")
    }
}
