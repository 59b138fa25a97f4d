import ArgumentParser
import Glibc
import UIO
import UIODevices

/// `uioctl list`: the network devices, what drives them now, and whether swift-uio could.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List PCI network devices with their driver, UIO node and swift-uio support.")

    @Flag(help: "List every PCI device, not only network controllers.")
    var all = false

    @Flag(help: "Print a JSON array (one object per device) for scripts, instead of the table.")
    var json = false

    @OptionGroup var options: SysfsOptions

    func run() throws {
        let sysfs = options.sysfs
        guard sysfs.exists("/sys/bus/pci/devices") else {
            throw UIOError.systemCall("open", path: sysfs.path("/sys/bus/pci/devices"), errno: ENOENT)
        }
        // libpci enumerates (as lspci does); sysfs adds what libpci does not know: the bound
        // driver and the UIO node.
        let devices = PCIBus.scan(sysfs: sysfs).filter { all || $0.isNetworkController }
        if json {
            print(try JSONReport.render(devices.map { JSONReport.listed($0, info: try? PCIDeviceInfo(address: $0.address, sysfs: sysfs)) }))
            return
        }
        guard !devices.isEmpty else {
            print(all ? "no PCI devices found" : "no PCI network devices found (try `uioctl list --all`)")
            return
        }
        var table = Table("ADDRESS", "ID", "DESCRIPTION", "DRIVER", "UIO", "SWIFT-UIO")
        for device in devices {
            let info = try? PCIDeviceInfo(address: device.address, sysfs: sysfs)
            let description = DriverRegistry.describe(vendor: device.vendorID, device: device.deviceID)
                ?? Format.className(device.classCode)
            let swiftDriver = DriverRegistry.driver(vendor: device.vendorID, device: device.deviceID)
            table.append(
                device.address.description,
                Format.ids(device.vendorID, device.deviceID),
                description,
                info?.driver ?? "-",
                info?.uioIndex.map { "uio\($0)" } ?? "-",
                swiftDriver?.rawValue ?? "no")
        }
        print(table.render())
    }
}
