import Testing
import UIO
import UIOSimulator
@testable import Ixgbe

/// The simulator's 82599 model keeps its own beliefs about device IDs (it is written from the
/// datasheet and Linux, not from the driver), so the two are held against each other here: for
/// every ID in the driver's table, the model must agree on which ports are SFP+ and which are
/// X540. The model may know IDs the driver does not list (yet); it may not disagree on one it does.
@Suite struct IxgbeModelIDTests {
    @Test func theModelAgreesWithTheTableOnEverySFPPortAndX540() {
        for row in IxgbeDeviceIDs.supported {
            let id = "0x\(String(row.deviceID, radix: 16)) \(row.name)"
            #expect(IxgbeModelLayout.sfpDeviceIDs.contains(row.deviceID) == row.sfp, "SFP+: \(id)")
            #expect(IxgbeModelLayout.x540DeviceIDs.contains(row.deviceID) == (row.family == .x540), "X540: \(id)")
        }
    }

    @Test func theModelsDefaultDeviceIsAnSFPPortTheDriverDrives() throws {
        #expect(IxgbeModelLayout.vendorID == IxgbeDeviceIDs.vendorID)
        let row = try #require(IxgbeDeviceIDs.entry(vendor: IxgbeModelLayout.vendorID, device: IxgbeModelLayout.deviceID82599SFP))
        #expect(row.family == .i82599 && row.sfp)
    }

    /// Every row of the table, on the model that presents that ID: accepted, set up, link up.
    @Test(arguments: IxgbeDeviceIDs.supported.map(\.deviceID))
    func everyRowComesUpOnTheModel(deviceID: UInt16) throws {
        var nic = try SimulatedIxgbeNIC(deviceID: deviceID)
        #expect(nic.device.family == IxgbeDeviceIDs.entry(vendor: 0x8086, device: deviceID)?.family)
        #expect(nic.device.link == LinkStatus(isUp: true, speedMbps: 10_000))
        #expect(nic.model.faults.isEmpty, "\(nic.model.faults)")
        nic.device.shutdown()
    }
}
