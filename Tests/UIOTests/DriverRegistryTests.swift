import Testing
@testable import UIO

@Suite struct DriverRegistryTests {
    @Test(arguments: [
        (UInt16(0x1af4), UInt16(0x1000), DriverKind?.some(.virtioNet)),
        (0x1af4, 0x1041, .virtioNet),
        (0x8086, 0x10fb, .ixgbe),
        (0x8086, 0x1528, .ixgbe),
        (0x8086, 0x10c9, .igb),     // 82576, QEMU's igb
        (0x8086, 0x1526, .igb),
        (0x8086, 0x10ca, nil),  // 82576 VF
        (0x1af4, 0x1042, nil),  // virtio-blk
        (0x8086, 0x100e, nil),  // e1000
        (0x10ec, 0x8139, nil),
    ])
    func findsTheDriverByID(vendor: UInt16, device: UInt16, expected: DriverKind?) {
        #expect(DriverRegistry.driver(vendor: vendor, device: device) == expected)
    }

    @Test func describesKnownDevices() {
        #expect(DriverRegistry.describe(vendor: 0x1af4, device: 0x1041) == "virtio-net (modern)")
        #expect(DriverRegistry.describe(vendor: 0x8086, device: 0x10fb) == "82599 SFP+")
        #expect(DriverRegistry.describe(vendor: 0x1234, device: 0x1111) == nil)
    }

    @Test func anUnsupportedDeviceListsWhatIsSupported() {
        let error = #expect(throws: UIOError.self) { try DriverRegistry.require(vendor: 0x8086, device: 0x100e) }
        #expect(error == .unsupportedDevice(vendor: 0x8086, device: 0x100e))
        #expect(error?.description == "no swift-uio driver for PCI device 8086:100e; supported: virtio-net 1af4:1000/1041; ixgbe 8086:10f7/10f8/10f9/10fb/10fc/1514/1517/151c/1528/154d/1557/1560; igb 8086:10c9/10e6/10e7/10e8/150a/150d/1518/1526. Pick a supported NIC (`uioctl list` shows which ones swift-uio can drive) and give this one back to its kernel driver")
    }
}
