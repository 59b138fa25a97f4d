import Testing
import UIO

/// Without HLREG0.JUMBOEN the 82599 discards frames longer than MAXFRS and counts them in
/// ROC (§8.2.3.23); the driver reports that count as `rxOversize`.
@Suite struct IxgbeOversizeTests {
    @Test func anOversizeFrameIsDiscardedByTheDeviceAndCounted() throws {
        var nic = try SimulatedIxgbeNIC()
        nic.model.inject(frame: ixgbeFrame(1, size: 1600))
        nic.model.inject(frame: ixgbeFrame(2, size: 1514))
        nic.model.inject(frame: ixgbeFrame(3, size: 9000))
        _ = nic.model.step()
        #expect(nic.receiveAll() == [ixgbeFrame(2, size: 1514)])
        let s = nic.device.statistics()
        #expect(s.rxOversize == 2)
        #expect(s.rxPackets == 1)
        #expect(nic.device.statistics().rxOversize == 2, "ROC is read-to-clear: the total must not count twice")
        nic.device.shutdown()
    }
}
