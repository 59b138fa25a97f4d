import Foundation
import Testing
@testable import UIO

/// `uioctl bind`, `unbind` and `udev` as a user runs them, against fake trees only.
extension UIOCtlTests {
    func bindTree() throws -> FakeSysfs {
        let tree = try tree()   // 00:04.0 on uio_pci_generic as uio0, 00:05.0 on virtio-pci
        for address in ["0000:00:04.0", "0000:00:05.0"] {
            try tree.write("/sys/bus/pci/devices/\(address)/driver_override", "")
        }
        try tree.write("/sys/bus/pci/drivers_probe", "")
        try tree.write("/sys/bus/pci/drivers/virtio-pci/unbind", "")
        try tree.write("/sys/bus/pci/drivers/virtio-pci/bind", "")
        try tree.write("/sys/bus/pci/drivers/uio_pci_generic/unbind", "")
        try tree.write("/sys/bus/pci/devices/0000:00:05.0/virtio1/net/eth1/operstate", "up\n")
        try tree.write("/proc/net/route", "Iface\tDestination\n")
        return tree
    }

    @Test func bindWritesTheKnobsAndReportsTheOldDriver() throws {
        let tree = try bindTree()
        let run = try uioctl("bind", "00:05.0", "--sysfs-root", tree.root)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout == "0000:00:05.0: wrote driver_override, unbind and drivers_probe for uio_pci_generic (was virtio-pci); not verified under --sysfs-root\n")
        #expect(String(decoding: try tree.read("/run/swift-uio/0000:00:05.0.driver"), as: UTF8.self) == "virtio-pci\n")
    }

    @Test func bindRefusesABusyInterfaceWithExitCode75() throws {
        let tree = try bindTree()
        try tree.write("/run/fake-ip-addr/eth1", "198.51.100.2/24\n")
        let run = try uioctl("bind", "0000:00:05.0", "--sysfs-root", tree.root)
        #expect(run.status == 75)
        #expect(run.stderr.hasPrefix("error: 0000:00:05.0 carries network interface eth1, which is in use (up (operstate up) with address 198.51.100.2/24)"))
        #expect(try uioctl("bind", "0000:00:05.0", "--force", "--sysfs-root", tree.root).status == 0)
    }

    @Test func bindAndUnbindClearErrors() throws {
        let tree = try bindTree()
        let twice = try uioctl("bind", "0000:00:04.0", "--sysfs-root", tree.root)
        #expect(twice.status == 1)
        #expect(twice.stderr.hasPrefix("error: 0000:00:04.0 is already bound to uio_pci_generic: nothing to do"))
        let missing = try uioctl("bind", "0000:00:1f.0", "--sysfs-root", tree.root)
        #expect(missing.status == 69)
        #expect(missing.stderr.hasPrefix("error: no PCI device at 0000:00:1f.0"))
        let module = try uioctl("bind", "0000:00:05.0", "--driver", "igb_uio", "--sysfs-root", tree.root)
        #expect(module.status == 69)
        #expect(module.stderr.hasPrefix("error: kernel module igb_uio is not available (not loading modules under --sysfs-root)"))
        let notUIO = try uioctl("unbind", "0000:00:05.0", "--sysfs-root", tree.root)
        #expect(notUIO.status == 1)
        #expect(notUIO.stderr.hasPrefix("error: 0000:00:05.0 is not bound to a UIO driver (its driver is 'virtio-pci')"))
        let unbind = try uioctl("unbind", "0000:00:04.0", "--sysfs-root", tree.root)
        #expect(unbind.status == 0, "stderr: \(unbind.stderr)")
        #expect(unbind.stdout == "0000:00:04.0: cleared driver_override, drivers_probe; not verified under --sysfs-root\n")
    }

    @Test func udevRulesAndDryRunInstall() throws {
        let tree = try bindTree()
        try tree.write("/conf", "group uio\nid 1af4:1041\n")
        let rules = try uioctl("udev", "rules", "--config", tree.path("/conf"), "--helper", "/x/bind")
        #expect(rules.status == 0, "stderr: \(rules.stderr)")
        #expect(rules.stdout.contains(#"ATTR{vendor}=="0x1af4", ATTR{device}=="0x1041", ATTR{driver_override}="uio_pci_generic", RUN+="/x/bind bind %k uio_pci_generic""#))
        let dry = try uioctl("udev", "install", "--config", tree.path("/conf"), "--prefix", tree.path("/rules"), "--dry-run", "--sysfs-root", tree.root)
        #expect(dry.status == 0, "stderr: \(dry.stderr)")
        #expect(dry.stdout.contains("would write \(tree.path("/rules"))/99-swift-uio.rules (mode 644):"))
        #expect(dry.stdout.contains("would run: udevadm trigger --action=add /sys/bus/pci/devices/0000:00:05.0"))
        #expect(!FileManager.default.fileExists(atPath: tree.path("/rules")))
        try tree.write("/bad", "group uio\npci 00:04\n")
        let bad = try uioctl("udev", "rules", "--config", tree.path("/bad"))
        #expect(bad.status == 65)
        #expect(bad.stderr.hasPrefix("error: \(tree.path("/bad")):2: invalid PCI address '00:04'"))
    }
}
