import Foundation
import Testing
@testable import UIO
@testable import UIOSetup

/// The config format and the rules generated from it.
@Suite struct UdevConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func parsesAddressesIDsGroupAndDriver() throws {
        let config = try UdevConfig(parsing: """
            # comment
            pci 03:00.0        # short form, domain 0
            id 8086:10FB
            group  netdev-uio
            driver uio_pci_generic

            """)
        #expect(config.matches == [.address(try PCIAddress(parsing: "0000:03:00.0")), .ids(vendor: 0x8086, device: 0x10fb)])
        #expect(config.group == "netdev-uio")
        #expect(config.driver == "uio_pci_generic")
        #expect(try UdevConfig(parsing: "pci 0000:00:04.0").group == "uio")
    }

    @Test(arguments: [
        ("pcie 0000:00:04.0", "c.conf:1: unknown directive 'pcie': expected pci, id, group or driver (see udev/README.md for the format)"),
        ("\npci 0000:00:zz.0", "c.conf:2: invalid PCI address '0000:00:zz.0': device 'zz' is not a hex number of at most 2 digits (see udev/README.md for the format)"),
        ("id 8086-10fb", "c.conf:1: invalid ID '8086-10fb': expected vendor:device as two 4-digit hex numbers, for example 8086:10fb (see udev/README.md for the format)"),
        ("pci 0000:00:04.0\ngroup root", "c.conf:2: group root: pick a dedicated group (for example uio); its members get root-equivalent access (see udev/README.md for the format)"),
        ("group a\"b\npci 0000:00:04.0", "c.conf:1: invalid group name 'a\"b': use letters, digits, '_' and '-' (see udev/README.md for the format)"),
        ("pci 0000:00:04.0 0000:00:05.0", "c.conf:1: 'pci' takes exactly one value, got 2 (see udev/README.md for the format)"),
        ("# nothing\ngroup uio", "c.conf: no device chosen: add a line 'pci DDDD:BB:DD.F' or 'id VVVV:DDDD' (see udev/README.md for the format)"),
    ])
    func rejectsWithTheLine(text: String, message: String) {
        #expect(throws: UdevConfigError.self) { try UdevConfig(parsing: text, source: "c.conf") }
        do { _ = try UdevConfig(parsing: text, source: "c.conf") } catch { #expect("\(error)" == message) }
    }

    @Test func rulesForAnAddressAndAnID() throws {
        let config = try UdevConfig(parsing: "group uio\npci 0000:00:04.0\nid 8086:10fb\n")
        let rules = UdevRules.generate(config, helperPath: "/h/bind").split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(rules == [
            #"ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:00:04.0", ATTR{driver_override}="uio_pci_generic", RUN+="/h/bind bind %k uio_pci_generic""#,
            #"ACTION=="add", SUBSYSTEM=="pci", ATTR{vendor}=="0x8086", ATTR{device}=="0x10fb", ATTR{driver_override}="uio_pci_generic", RUN+="/h/bind bind %k uio_pci_generic""#,
            #"ACTION=="add", SUBSYSTEM=="uio", SUBSYSTEMS=="pci", KERNELS=="0000:00:04.0", DRIVERS=="uio_pci_generic", GROUP="uio", MODE="0660", RUN+="/h/bind perms %k uio""#,
            #"ACTION=="add", SUBSYSTEM=="uio", SUBSYSTEMS=="pci", ATTRS{vendor}=="0x8086", ATTRS{device}=="0x10fb", DRIVERS=="uio_pci_generic", GROUP="uio", MODE="0660", RUN+="/h/bind perms %k uio""#,
        ])
        #expect(!UdevRules.generate(config).contains("0666"))
    }

    /// `driver vfio-pci`: route to vfio-pci, and give the IOMMU group nodes (never the container)
    /// to the group. A group node has no PCI parent, so that rule cannot name the device.
    @Test func rulesForVFIOGiveTheGroupNodesToTheGroup() throws {
        let config = try UdevConfig(parsing: "group vfio\ndriver vfio-pci\npci 0000:00:04.0\n")
        let text = UdevRules.generate(config, helperPath: "/h/bind")
        let rules = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(rules == [
            #"ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:00:04.0", ATTR{driver_override}="vfio-pci", RUN+="/h/bind bind %k vfio-pci""#,
            #"ACTION=="add", SUBSYSTEM=="vfio", KERNEL!="vfio", GROUP="vfio", MODE="0660""#,
        ])
        #expect(text.contains("not root-equivalent"))
    }

    /// udev/99-swift-uio.rules is what `uioctl udev rules --config udev/swift-uio.conf` prints.
    @Test func theCommittedRulesMatchTheCommittedConfig() throws {
        let conf = try String(contentsOf: Self.repository.appendingPathComponent("udev/swift-uio.conf"), encoding: .utf8)
        let rules = try String(contentsOf: Self.repository.appendingPathComponent("udev/99-swift-uio.rules"), encoding: .utf8)
        #expect(UdevRules.generate(try UdevConfig(parsing: conf)) == rules,
                "regenerate: .build/debug/uioctl udev rules --config udev/swift-uio.conf > udev/99-swift-uio.rules")
    }

    /// The helper `uioctl udev install` writes is the committed udev/swift-uio-bind.
    @Test func theEmbeddedHelperIsTheCommittedOne() throws {
        let script = try String(contentsOf: Self.repository.appendingPathComponent("udev/swift-uio-bind"), encoding: .utf8)
        #expect(UdevHelperScript.text == script)
    }

    @Test func installationFilesAndModes() throws {
        let config = try UdevConfig(parsing: "pci 0000:00:04.0")
        let dir = try FakeSysfs()
        let installation = UdevInstallation(rulesDirectory: dir.path("/etc/udev/rules.d"), helperPath: dir.path("/lib/bind"),
                                            configPath: dir.path("/etc/swift-uio/swift-uio.conf"))
        let files = installation.files(config: config, configText: "pci 0000:00:04.0\n")
        try installation.write(files)
        var st = stat()
        #expect(stat(dir.path("/lib/bind"), &st) == 0 && st.st_mode & 0o777 == 0o755)
        #expect(stat(dir.path("/etc/udev/rules.d/99-swift-uio.rules"), &st) == 0 && st.st_mode & 0o777 == 0o644)
        #expect(String(decoding: try dir.read("/etc/udev/rules.d/99-swift-uio.rules"), as: UTF8.self).contains("RUN+=\"\(dir.path("/lib/bind")) bind %k"))
        #expect(installation.remove().count == 3)
        #expect(!FileManager.default.fileExists(atPath: dir.path("/lib/bind")))
    }
}
