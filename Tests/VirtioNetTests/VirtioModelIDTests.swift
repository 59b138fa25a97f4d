import Testing
import UIO
import UIOSimulator
import VirtioNet

/// The simulator's virtio-net model presents its own IDs (from the virtio spec): each must be
/// in the driver's table with the layout the model implements.
@Suite struct VirtioModelIDTests {
    @Test func theModelsIDsAreTheTablesWithTheirLayouts() throws {
        #expect(VirtioNetModelLayout.vendorID == VirtioNetDeviceIDs.vendorID)
        let legacy = try #require(VirtioNetDeviceIDs.entry(vendor: VirtioNetModelLayout.vendorID, device: VirtioNetModelLayout.legacyDeviceID))
        #expect(legacy.layout == .legacy)
        let modern = try #require(VirtioNetDeviceIDs.entry(vendor: VirtioNetModelLayout.vendorID, device: VirtioNetModelLayout.modernDeviceID))
        #expect(modern.layout == .modern)
    }

    /// Each model layout, opened by the driver: the table's layout picks the transport the
    /// model implements (a legacy model driven as modern would have no capabilities to find).
    @Test(arguments: [VirtioNetModel.Layout.legacy, .modern])
    func theDriverPicksTheModelsTransport(layout: VirtioNetModel.Layout) throws {
        let dma = SimulatedDMA()
        let model = VirtioNetModel(.init(layout: layout), dma: dma)
        var device = try VirtioNetDevice(function: model.makePCIFunction(), allocator: dma)
        #expect(device.layout.rawValue == "\(layout)")
        #expect(model.faults.isEmpty, "\(model.faults)")
        device.shutdown()
    }
}
