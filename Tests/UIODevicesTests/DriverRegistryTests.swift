import Igb
import Ixgbe
import Testing
import UIO
@testable import UIODevices
import VirtioNet

/// The registry reads the drivers' own ID tables: every ID a driver lists reaches that driver
/// (and no other), and nothing else reaches any.
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
        (0x1af4, 0x10fb, nil),  // an Intel device ID under another vendor
    ])
    func findsTheDriverByID(vendor: UInt16, device: UInt16, expected: DriverKind?) {
        #expect(DriverRegistry.driver(vendor: vendor, device: device) == expected)
    }

    /// Each driver's table, row by row: the registry routes the row to its driver and names it
    /// as the table does.
    @Test func everyRowOfEveryDriversTableReachesThatDriver() {
        let rows: [(DriverKind, UInt16, UInt16, String)] =
            VirtioNetDeviceIDs.supported.map { (.virtioNet, VirtioNetDeviceIDs.vendorID, $0.deviceID, $0.name) }
            + IxgbeDeviceIDs.supported.map { (.ixgbe, IxgbeDeviceIDs.vendorID, $0.deviceID, $0.name) }
            + IgbDeviceIDs.supported.map { (.igb, IgbDeviceIDs.vendorID, $0.deviceID, $0.name) }
        for (kind, vendor, device, name) in rows {
            #expect(DriverRegistry.driver(vendor: vendor, device: device) == kind, "\(kind) \(vendor):\(device)")
            #expect(DriverRegistry.describe(vendor: vendor, device: device) == name)
        }
        #expect(DriverRegistry.ixgbeDevices.count == IxgbeDeviceIDs.supported.count)
        #expect(DriverRegistry.igbDevices.count == IgbDeviceIDs.supported.count)
        #expect(DriverRegistry.virtioNetDevices.count == VirtioNetDeviceIDs.supported.count)
    }

    /// igb and ixgbe share Intel's vendor ID: one device ID in both tables would be opened by
    /// whichever the registry asks first.
    @Test func noDeviceIDIsClaimedByTwoDrivers() {
        let intel = DriverRegistry.drivers.filter { $0.vendor == 0x8086 }
        #expect(intel.count == 2)
        let shared = Set(DriverRegistry.ixgbeDevices.keys).intersection(DriverRegistry.igbDevices.keys)
        #expect(shared.isEmpty, "\(shared.map { String($0, radix: 16) })")
    }

    @Test func describesKnownDevices() {
        #expect(DriverRegistry.describe(vendor: 0x1af4, device: 0x1041) == "virtio-net (modern)")
        #expect(DriverRegistry.describe(vendor: 0x8086, device: 0x10fb) == "82599 SFP+")
        #expect(DriverRegistry.describe(vendor: 0x8086, device: 0x10c9) == "82576")
        #expect(DriverRegistry.describe(vendor: 0x1234, device: 0x1111) == nil)
    }

    @Test func anUnsupportedDeviceListsWhatIsSupported() {
        let error = #expect(throws: UIOError.self) { try DriverRegistry.require(vendor: 0x8086, device: 0x100e) }
        guard case .unsupportedDevice(0x8086, 0x100e, _) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        // Each driver's IDs, from its own table, in hex and in order: adding a row needs no edit here.
        func ids(_ rows: [UInt16]) -> String { rows.sorted().map { String($0, radix: 16) }.joined(separator: "/") }
        let supported = "virtio-net 1af4:1000/1041; ixgbe 8086:" + ids(IxgbeDeviceIDs.supported.map(\.deviceID))
            + "; igb 8086:" + ids(IgbDeviceIDs.supported.map(\.deviceID))
        #expect(supported.hasPrefix("virtio-net 1af4:1000/1041; ixgbe 8086:10f7/10f8/10f9/10fb/10fc/1514/1517/151c/"))
        #expect(error?.description == "no swift-uio driver for PCI device 8086:100e; supported: \(supported). Pick a supported NIC (`uioctl list` shows which ones swift-uio can drive) and give this one back to its kernel driver")
    }

    /// A driver handed a device that is not in its table says so without a list (it knows only its own).
    @Test func aDriversOwnRefusalNamesTheDevice() {
        #expect(UIOError.unsupportedDevice(vendor: 0x8086, device: 0x10b6).description
            == "no swift-uio driver for PCI device 8086:10b6. Pick a supported NIC (`uioctl list` shows which ones swift-uio can drive) and give this one back to its kernel driver")
    }
}
