import Testing
@testable import UIO

@Suite struct UIODeviceInfoTests {
    /// A legacy virtio-net bound to uio_pci_generic: BAR1 is exported as map0, BAR0 as port0.
    static func boundLegacyVirtio() throws -> FakeSysfs {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              driver: "uio_pci_generic", uioIndex: 0)
        try tree.addUIONode(index: 0, events: 42,
                            maps: [.init(addr: 0xfebf_1000, size: 0x1000, offset: 0, name: "0000:00:04.0")],
                            ports: [.init(start: 0xc000, size: 0x20, name: "0000:00:04.0")])
        return tree
    }

    @Test func parsesMapsAndPorts() throws {
        let tree = try Self.boundLegacyVirtio()
        let uio = try UIODeviceInfo(index: 0, sysfs: tree.sysfs)
        #expect(uio.name == "uio_pci_generic")
        #expect(uio.version == "0.01.0")
        #expect(uio.eventCount == 42)
        #expect(uio.devicePath == "/dev/uio0")
        #expect(uio.maps == [.init(index: 0, name: "0000:00:04.0", address: 0xfebf_1000, size: 0x1000, offset: 0)])
        #expect(uio.ports == [.init(index: 0, name: "0000:00:04.0", start: 0xc000, size: 0x20, portType: "port_x86")])
    }

    @Test func findsTheNodeFromAPCIAddress() throws {
        let tree = try Self.boundLegacyVirtio()
        let uio = try UIODeviceInfo(pci: PCIAddress(parsing: "0000:00:04.0"), sysfs: tree.sysfs)
        #expect(uio.index == 0)
        #expect(uio.maps.count == 1)
    }

    @Test func matchesAMapToTheBARItCovers() throws {
        let tree = try Self.boundLegacyVirtio()
        let uio = try UIODeviceInfo(index: 0, sysfs: tree.sysfs)
        #expect(uio.map(covering: PCIBar(index: 1, start: 0xfebf_1000, size: 0x1000, kind: .memory32, prefetchable: false))?.index == 0)
        #expect(uio.map(covering: PCIBar(index: 4, start: 0xfe00_0000, size: 0x4000, kind: .memory64, prefetchable: true)) == nil)
    }

    @Test func aDeviceOnAKernelDriverIsNotBoundToUIO() throws {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:03.0", vendor: 0x1af4, device: 0x1041, resource: ResourceFixtures.modernVirtioNet,
                              driver: "virtio-pci")
        let address = try PCIAddress(parsing: "0000:00:03.0")
        let error = #expect(throws: UIOError.self) { try UIODeviceInfo(pci: address, sysfs: tree.sysfs) }
        #expect(error == .notBoundToUIO(address, driver: "virtio-pci"))
        #expect(error?.description == "0000:00:03.0 is not bound to a UIO driver (it is bound to 'virtio-pci'): as root, run `uioctl bind 0000:00:03.0`, which refuses a NIC whose network interface is in use (check with `uioctl list`), or `uioctl bind --vfio 0000:00:03.0` where the machine has an IOMMU")
        // Raw unbind advice could cut the machine off its network: only `uioctl bind`, which checks.
        #expect(error?.description.contains("/unbind") == false && error?.description.contains("drivers_probe") == false)
    }

    @Test func aDeviceWithNoDriverSaysSo() {
        let error = UIOError.notBoundToUIO(PCIAddress(bus: 0, device: 3, function: 0), driver: nil)
        #expect(error.description == "0000:00:03.0 is not bound to a UIO driver (it is bound to no driver): as root, run `uioctl bind 0000:00:03.0`, which refuses a NIC whose network interface is in use (check with `uioctl list`), or `uioctl bind --vfio 0000:00:03.0` where the machine has an IOMMU")
    }
}
