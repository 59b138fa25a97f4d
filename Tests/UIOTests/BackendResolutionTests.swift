import Testing
@testable import UIO
@testable import UIODevices
import VFIO

/// `Backend.resolve(for:)` and the VFIO interrupt choice of `DeviceOpener`, on fake trees.
@Suite struct BackendResolutionTests {
    let address = try! PCIAddress(parsing: "0000:00:04.0")

    func tree(device: UInt16 = 0x1000, driver: String?, uioIndex: Int? = nil) throws -> FakeSysfs {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: device, resource: ResourceFixtures.legacyVirtioNet,
                              driver: driver, uioIndex: uioIndex)
        return tree
    }

    @Test func autoPicksVFIOForADeviceOnVfioPci() throws {
        let tree = try tree(driver: "vfio-pci")
        #expect(try Backend.auto.resolve(for: address, sysfs: tree.sysfs) == .vfio)
    }

    @Test func autoPicksUIOForADeviceWithAUIONode() throws {
        let tree = try tree(driver: "uio_pci_generic", uioIndex: 0)
        #expect(try Backend.auto.resolve(for: address, sysfs: tree.sysfs) == .uio)
    }

    @Test func autoRefusesAKernelDriverAndSaysHowToBind() throws {
        let tree = try tree(driver: "virtio-pci")
        let error = #expect(throws: UIOError.self) { try Backend.auto.resolve(for: address, sysfs: tree.sysfs) }
        let text = "\(error!)"
        #expect(text.contains("'virtio-pci'"))
        #expect(text.contains("uioctl bind --vfio 0000:00:04.0"))
    }

    @Test func autoRefusesAnUnboundDevice() throws {
        let tree = try tree(driver: nil)
        let error = #expect(throws: UIOError.self) { try Backend.auto.resolve(for: address, sysfs: tree.sysfs) }
        #expect("\(error!)".contains("no driver"))
    }

    @Test func anExplicitBackendIsTakenAsGiven() throws {
        let tree = try tree(driver: "virtio-pci")
        #expect(try Backend.uio.resolve(for: address, sysfs: tree.sysfs) == .uio)
        #expect(try Backend.vfio.resolve(for: address, sysfs: tree.sysfs) == .vfio)
    }

    @Test func modernVirtioGetsOneMSIXVectorPerQueueAndOneForConfig() throws {
        let tree = try tree(device: 0x1041, driver: "vfio-pci")
        let mode = try DeviceOpener.vfioInterrupts(for: address, queues: 2, sysfs: tree.sysfs, forced: nil)
        guard case .msix(let vectors) = mode else { Issue.record("expected MSI-X, got \(mode)"); return }
        #expect(vectors == 3)
    }

    @Test func legacyVirtioAndIntelNICsUseINTx() throws {
        let tree = try tree(device: 0x1000, driver: "vfio-pci")
        let mode = try DeviceOpener.vfioInterrupts(for: address, sysfs: tree.sysfs, forced: nil)
        guard case .intx = mode else { Issue.record("expected INTx, got \(mode)"); return }
    }

    @Test func theEnvironmentCanForceTheInterruptMode() throws {
        let tree = try tree(device: 0x1041, driver: "vfio-pci")
        guard case .intx = try DeviceOpener.vfioInterrupts(for: address, sysfs: tree.sysfs, forced: "intx") else {
            Issue.record("SWIFT_UIO_VFIO_INTERRUPTS=intx was not taken"); return
        }
        #expect(throws: UIOError.self) { try DeviceOpener.vfioInterrupts(for: address, sysfs: tree.sysfs, forced: "msi") }
    }
}
