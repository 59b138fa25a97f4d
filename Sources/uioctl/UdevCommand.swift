import ArgumentParser
import Foundation
import UIO
import UIOSetup

/// `uioctl udev install | uninstall | rules`: the udev rules that bind the chosen NICs at boot
/// and give their files to a group.
struct UdevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udev",
        abstract: "Install or remove the udev rules that bind the chosen NICs to uio_pci_generic and give them to a group.",
        discussion: "The config format and the security model are in udev/README.md. Group membership is root-equivalent.",
        subcommands: [UdevInstallCommand.self, UdevUninstallCommand.self, UdevRulesCommand.self])
}

struct UdevPaths: ParsableArguments {
    @Option(help: "Directory of the udev rules.")
    var prefix: String = "/etc/udev/rules.d"

    @Option(help: "Where the helper script that the rules run goes.")
    var helper: String = UdevRules.defaultHelperPath

    var installation: UdevInstallation {
        UdevInstallation(rulesDirectory: prefix, helperPath: helper, configPath: UdevConfig.installedPath)
    }
}

enum UdevConfigFile {
    static func load(_ path: String?) throws -> (config: UdevConfig, text: String, path: String) {
        let path = path ?? UdevConfig.installedPath
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw UIOError.permissionDenied(path: path) }
            throw ValidationError("no config at \(path): pass --config FILE (start from udev/swift-uio.conf)")
        }
        let text = String(decoding: data, as: UTF8.self)
        return (try UdevConfig(parsing: text, source: path), text, path)
    }
}

/// `uioctl udev rules [--config FILE]`: prints the rules without installing anything.
struct UdevRulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Print the rules generated from a config; installs nothing.")

    @Option(help: "The config file (default: the installed \(UdevConfig.installedPath)).")
    var config: String?

    @OptionGroup var paths: UdevPaths

    func run() throws {
        let loaded = try UdevConfigFile.load(config)
        print(UdevRules.generate(loaded.config, helperPath: paths.helper), terminator: "")
    }
}

struct UdevInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Write the config, helper and rules, reload udev and trigger the chosen devices.",
        discussion: """
            Needs root. Creates the group (groupadd --system) if it does not exist. Refuses, unless \
            --force, when a chosen device's network interface is in use (see `uioctl bind`).
            """)

    @Option(help: "The config file to install (default: the installed \(UdevConfig.installedPath)).")
    var config: String?

    @OptionGroup var paths: UdevPaths

    @Flag(help: "Install even if a chosen device's network interface is in use.")
    var force = false

    @Flag(help: "Print what would be written and run; change nothing.")
    var dryRun = false

    @OptionGroup var options: SysfsOptions

    func run() throws {
        let sysfs = options.sysfs
        let loaded = try UdevConfigFile.load(config)
        let devices = loaded.config.presentDevices(sysfs: sysfs)
        if !force {
            let usage = Setup.usage(sysfs)
            for device in devices where device.driver != loaded.config.driver {
                if let busy = usage.firstInUse(device.address) {
                    throw BindingError.inUse(device.address, interface: busy.interface, reasons: busy.reasons)
                }
            }
        }
        let installation = paths.installation
        let files = installation.files(config: loaded.config, configText: loaded.text)
        let group = loaded.config.group
        let live = sysfs.root.isEmpty
        let triggers = devices.map { "/sys/bus/pci/devices/\($0.address)" }
        let commands: [[String]] = [["udevadm", "control", "--reload"]]
            + (triggers.isEmpty ? [] : [["udevadm", "trigger", "--action=add"] + triggers, ["udevadm", "settle", "--timeout=30"]])

        if dryRun {
            if getgrnam(group) == nil { print("would run: groupadd --system \(group)") }
            for file in files {
                print("would write \(file.path) (mode \(String(file.mode, radix: 8))):")
                print(file.contents, terminator: "")
            }
            for command in commands { print("would run: " + command.joined(separator: " ")) }
            return
        }
        guard geteuid() == 0 else { throw BindingError.needsRoot("installing udev rules", path: installation.rulesPath) }
        if getgrnam(group) == nil {
            let out = try Shell.run("groupadd", ["--system", group])
            guard out.status == 0 else { throw UIOError.device("groupadd --system \(group) failed: \(out.stderr)") }
            print("created group \(group)")
        }
        try installation.write(files)
        for file in files { print("wrote \(file.path)") }
        guard live else {
            print("not reloading udev or triggering devices under --sysfs-root")
            return
        }
        for command in commands {
            let out = try Shell.run(command[0], Array(command.dropFirst()))
            guard out.status == 0 else { throw UIOError.device("\(command.joined(separator: " ")) failed: \(out.stderr)") }
        }
        if devices.isEmpty { print("no chosen device is present now; the rules will act when one is added") }
        for device in devices { print(Self.describe(device.address, sysfs: sysfs)) }
    }

    /// "0000:00:04.0: uio_pci_generic, /dev/uio0 root:uio 0660".
    static func describe(_ address: PCIAddress, sysfs: Sysfs) -> String {
        guard let info = try? PCIDeviceInfo(address: address, sysfs: sysfs) else { return "\(address): gone" }
        var text = "\(address): \(info.driver ?? "no driver")"
        if let index = info.uioIndex {
            var st = stat()
            let node = sysfs.path("/dev/uio\(index)")
            if stat(node, &st) == 0 {
                let group = getgrgid(st.st_gid).map { String(cString: $0.pointee.gr_name) } ?? "\(st.st_gid)"
                text += ", \(node) group \(group) mode \(String(st.st_mode & 0o777, radix: 8))"
            }
        }
        return text
    }
}

struct UdevUninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove the rules, helper and config, reload udev, and give the chosen devices back to their kernel drivers.")

    @OptionGroup var paths: UdevPaths

    @OptionGroup var options: SysfsOptions

    func run() throws {
        let sysfs = options.sysfs
        let installation = paths.installation
        guard geteuid() == 0 else { throw BindingError.needsRoot("removing udev rules", path: installation.rulesPath) }
        // Read the config before removing it: it says which devices to give back.
        let config = try? UdevConfigFile.load(installation.configPath).config
        for path in installation.remove() { print("removed \(path)") }
        if sysfs.root.isEmpty {
            let out = try Shell.run("udevadm", ["control", "--reload"])
            if out.status != 0 { print("warning: udevadm control --reload failed: \(out.stderr)") }
        }
        guard let config else {
            print("no installed config at \(installation.configPath): no device to give back")
            return
        }
        let binding = DriverBinding(sysfs: sysfs)
        for device in config.presentDevices(sysfs: sysfs) where device.uioIndex != nil {
            let result = try binding.unbind(device.address)
            let now = sysfs.root.isEmpty ? binding.waitForDriver(device.address) { $0 != nil && !$0!.hasPrefix("uio") }.driver : nil
            print("\(device.address): back to \(now ?? result.restoredDriver ?? "the kernel's choice")")
        }
    }
}
