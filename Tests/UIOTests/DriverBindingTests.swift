import Foundation
import Testing
@testable import UIO
@testable import UIOSetup

/// bind/unbind against fake trees: which sysfs files get which text, and every refusal.
@Suite struct DriverBindingTests {
    let address = try! PCIAddress(parsing: "0000:00:04.0")

    /// The NIC at 00:04.0 on virtio-pci with interface eth0 under virtio0, the sysfs knobs as
    /// empty files, and uio_pci_generic loaded.
    func tree(driver: String? = "virtio-pci", uioIndex: Int? = nil) throws -> FakeSysfs {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              driver: driver, uioIndex: uioIndex)
        let dir = "/sys/bus/pci/devices/0000:00:04.0"
        try tree.write(dir + "/driver_override", "")
        try tree.write("/sys/bus/pci/drivers_probe", "")
        for name in ["virtio-pci", "uio_pci_generic"] {
            try tree.write("/sys/bus/pci/drivers/\(name)/unbind", "")
            try tree.write("/sys/bus/pci/drivers/\(name)/bind", "")
        }
        try tree.write(dir + "/virtio0/net/eth0/operstate", "down\n")
        try tree.write(dir + "/virtio0/net/eth0/flags", "0x1002\n")
        try tree.write("/proc/net/route", "Iface\tDestination\tGateway\tFlags\n")
        return tree
    }

    func text(_ tree: FakeSysfs, _ path: String) -> String {
        (try? String(decoding: tree.read(path), as: UTF8.self)) ?? "<missing>"
    }

    func binding(_ tree: FakeSysfs, addresses: [String: [String]] = [:], module: String? = nil) -> DriverBinding {
        DriverBinding(sysfs: tree.sysfs, usage: InterfaceUsage(sysfs: tree.sysfs) { addresses[$0] ?? [] },
                      loadModule: { _ in module })
    }

    @Test func bindRemembersTheDriverOverridesUnbindsAndProbes() throws {
        let tree = try tree()
        let result = try binding(tree).bind(address)
        #expect(result.previousDriver == "virtio-pci")
        #expect(text(tree, "/run/swift-uio/0000:00:04.0.driver") == "virtio-pci\n")
        #expect(text(tree, "/sys/bus/pci/devices/0000:00:04.0/driver_override") == "uio_pci_generic\n")
        #expect(text(tree, "/sys/bus/pci/drivers/virtio-pci/unbind") == "0000:00:04.0")
        #expect(text(tree, "/sys/bus/pci/drivers_probe") == "0000:00:04.0")
    }

    @Test func bindOfADriverlessDeviceOnlyOverridesAndProbes() throws {
        let tree = try tree(driver: nil)
        #expect(try binding(tree).bind(address).previousDriver == nil)
        #expect(!FileManager.default.fileExists(atPath: tree.path("/run/swift-uio/0000:00:04.0.driver")))
        #expect(text(tree, "/sys/bus/pci/drivers_probe") == "0000:00:04.0")
    }

    @Test func bindRefusesAnInterfaceWithARoute() throws {
        let tree = try tree()
        try tree.write("/proc/net/route", "Iface\tDestination\tGateway\nlo\t0\t0\neth0\t0000000A\t00000000\neth0\t00000000\t0100000A\n")
        #expect(throws: BindingError.inUse(address, interface: "eth0", reasons: ["2 IPv4 routes in /proc/net/route"])) {
            try binding(tree).bind(address)
        }
        #expect(text(tree, "/sys/bus/pci/devices/0000:00:04.0/driver_override") == "")   // nothing written
        try binding(tree).bind(address, force: true)
        #expect(text(tree, "/sys/bus/pci/devices/0000:00:04.0/driver_override") == "uio_pci_generic\n")
    }

    @Test func bindRefusesAnUpInterfaceWithAnAddressButNotADownOne() throws {
        let tree = try tree()
        let addresses = ["eth0": ["192.0.2.2/24"]]
        try binding(tree, addresses: addresses).bind(address)           // down: fine
        let upTree = try self.tree()
        try upTree.write("/sys/bus/pci/devices/0000:00:04.0/virtio0/net/eth0/operstate", "up\n")
        let error = #expect(throws: BindingError.self) { try binding(upTree, addresses: addresses).bind(address) }
        #expect(error == .inUse(address, interface: "eth0", reasons: ["up (operstate up) with address 192.0.2.2/24"]))
        #expect("\(error!)".contains("your SSH session included"))
        // Up without a global address (fe80:: only) is not in use.
        try binding(upTree).bind(address)
    }

    @Test func bindErrors() throws {
        let tree = try tree()
        #expect(throws: UIOError.noSuchDevice(try PCIAddress(parsing: "0000:00:1f.0"))) {
            try binding(tree).bind(try PCIAddress(parsing: "0000:00:1f.0"))
        }
        try FileManager.default.removeItem(atPath: tree.path("/sys/bus/pci/drivers/uio_pci_generic"))
        #expect(throws: BindingError.moduleUnavailable("uio_pci_generic", detail: "modprobe uio_pci_generic failed: FATAL: Module not found")) {
            try binding(tree, module: "modprobe uio_pci_generic failed: FATAL: Module not found").bind(address)
        }
        let loadsNothing = binding(tree)   // "succeeds" but no driver directory appears
        #expect(throws: BindingError.self) { try loadsNothing.bind(address) }

        let bound = try self.tree(driver: "uio_pci_generic", uioIndex: 0)
        #expect(throws: BindingError.alreadyBound(address, driver: "uio_pci_generic")) { try binding(bound).bind(address) }
    }

    @Test func unbindBindsTheRememberedDriverAndGivesTheFilesBackToRoot() throws {
        let tree = try tree(driver: "uio_pci_generic", uioIndex: 0)
        try tree.write("/run/swift-uio/0000:00:04.0.driver", "virtio-pci\n")
        let config = tree.path("/sys/bus/pci/devices/0000:00:04.0/config")
        chmod(config, 0o660)
        let result = try binding(tree).unbind(address)
        #expect(result.restoredDriver == "virtio-pci")
        #expect(text(tree, "/sys/bus/pci/devices/0000:00:04.0/driver_override") == "\n")   // an empty override clears it
        #expect(text(tree, "/sys/bus/pci/drivers/uio_pci_generic/unbind") == "0000:00:04.0")
        #expect(text(tree, "/sys/bus/pci/drivers/virtio-pci/bind") == "0000:00:04.0")
        #expect(text(tree, "/sys/bus/pci/drivers_probe") == "")
        #expect(!FileManager.default.fileExists(atPath: tree.path("/run/swift-uio/0000:00:04.0.driver")))
        var st = stat()
        #expect(stat(config, &st) == 0 && st.st_mode & 0o777 == 0o644)
        #expect(stat(tree.path("/sys/bus/pci/devices/0000:00:04.0/resource0"), &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test func unbindWithoutAMemoryLetsTheKernelProbe() throws {
        let tree = try tree(driver: "uio_pci_generic", uioIndex: 0)
        #expect(try binding(tree).unbind(address).restoredDriver == nil)
        #expect(text(tree, "/sys/bus/pci/drivers_probe") == "0000:00:04.0")
    }

    @Test func unbindRefusesADeviceOnItsKernelDriver() throws {
        let tree = try tree()
        #expect(throws: BindingError.notBoundToUIO(address, driver: "virtio-pci")) { try binding(tree).unbind(address) }
    }

    @Test func interfacesAreFoundDirectlyAndUnderAChildDevice() throws {
        let tree = try tree()
        try tree.write("/sys/bus/pci/devices/0000:00:04.0/net/enp0s4/operstate", "down\n")
        #expect(InterfaceUsage(sysfs: tree.sysfs).interfaces(of: address).map(\.name) == ["enp0s4", "eth0"])
        #expect(InterfaceUsage.parseIPAddr("2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever\n2: eth0    inet6 2001:db8::1/64 scope global \\       valid_lft forever\n")
                == ["10.0.0.5/24", "2001:db8::1/64"])
    }
}
