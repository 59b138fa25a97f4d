import Foundation
import Testing
@testable import UIO
@testable import UIOSetup
@testable import VFIO

/// `uioctl bind --vfio` and the VFIO group checks, against fake trees.
@Suite struct VFIOBindingTests {
    let address = try! PCIAddress(parsing: "0000:00:04.0")

    /// The NIC at 00:04.0 on virtio-pci in IOMMU group 5, with `others` (address, driver)
    /// in the same group.
    func tree(iommu: Bool = true, others: [(String, String?)] = []) throws -> FakeSysfs {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1041, resource: ResourceFixtures.legacyVirtioNet, driver: "virtio-pci")
        let dir = "/sys/bus/pci/devices/0000:00:04.0"
        try tree.write(dir + "/driver_override", "")
        try tree.write("/sys/bus/pci/drivers_probe", "")
        try tree.write("/sys/bus/pci/drivers/virtio-pci/unbind", "")
        try tree.write("/sys/bus/pci/drivers/vfio-pci/bind", "")
        try tree.write("/proc/net/route", "Iface\tDestination\tGateway\tFlags\n")
        if iommu {
            try tree.makeDirectory("/sys/kernel/iommu_groups/5/devices")
            try tree.symlink(dir + "/iommu_group", to: "../../../../kernel/iommu_groups/5")
            try tree.symlink("/sys/kernel/iommu_groups/5/devices/0000:00:04.0", to: "../../../../bus/pci/devices/0000:00:04.0")
            for (other, driver) in others {
                try tree.addPCIDevice(other, vendor: 0x8086, device: 0x10c9, resource: ResourceFixtures.legacyVirtioNet, driver: driver)
                try tree.symlink("/sys/kernel/iommu_groups/5/devices/\(other)", to: "../../../../bus/pci/devices/\(other)")
            }
        }
        return tree
    }

    func binding(_ tree: FakeSysfs, loaded: Box = Box()) -> DriverBinding {
        DriverBinding(sysfs: tree.sysfs, usage: InterfaceUsage(sysfs: tree.sysfs) { _ in [] },
                      loadModule: { loaded.modules.append($0); return nil })
    }

    final class Box: @unchecked Sendable { var modules: [String] = [] }

    @Test func bindVFIOWritesTheOverrideAndLoadsTheType1Backend() throws {
        let tree = try tree(others: [("0000:00:04.1", nil)])
        let loaded = Box()
        try binding(tree, loaded: loaded).bind(address, driver: "vfio-pci")
        #expect(String(decoding: try tree.read("/sys/bus/pci/devices/0000:00:04.0/driver_override"), as: UTF8.self) == "vfio-pci\n")
        #expect(loaded.modules == ["vfio_iommu_type1"])
    }

    @Test func bindVFIORefusesAGroupWithAMemberOnAHostDriver() throws {
        let tree = try tree(others: [("0000:00:04.1", "igb"), ("0000:00:04.2", "vfio-pci")])
        #expect(throws: VFIOError.groupNotViable(group: "5", blockers: ["0000:00:04.1 (igb)"])) {
            try binding(tree).bind(address, driver: "vfio-pci")
        }
        // Nothing was touched.
        #expect(try tree.read("/sys/bus/pci/devices/0000:00:04.0/driver_override").isEmpty)
        let text = VFIOError.groupNotViable(group: "5", blockers: ["0000:00:04.1 (igb)"]).description
        #expect(text.contains("uioctl bind --vfio"))
    }

    @Test func bindVFIOWithoutAnIOMMUSaysHowToGetOne() throws {
        let tree = try tree(iommu: false)
        #expect(throws: VFIOError.noIOMMUGroup(address)) { try binding(tree).bind(address, driver: "vfio-pci") }
        let text = VFIOError.noIOMMUGroup(address).description
        #expect(text.contains("intel_iommu=on") && text.contains("no-IOMMU") && text.contains("uioctl bind \(address)"))
    }

    @Test func groupInfoListsMembersAndBlockers() throws {
        let tree = try tree(others: [("0000:00:04.1", "pcieport"), ("0000:00:04.2", "e1000e")])
        let group = try VFIOGroupInfo(address: address, sysfs: tree.sysfs)
        #expect(group.number == "5" && group.devicePath == "/dev/vfio/5")
        #expect(group.members.count == 3)
        #expect(group.blockers(sysfs: tree.sysfs) == ["0000:00:04.0 (virtio-pci)", "0000:00:04.2 (e1000e)"])
    }

    @Test func memlockErrorNamesTheLimitAndTheFix() {
        let text = VFIOError.memlockLimit(neededBytes: 2 << 20, limitBytes: 8 << 20).description
        #expect(text.contains("RLIMIT_MEMLOCK, now 8192 KiB") && text.contains("ulimit -l") && text.contains("limits.conf"))
    }

    /// The request numbers and struct sizes of <linux/vfio.h> (6.1), which Swift cannot import.
    @Test func abiMatchesTheHeader() {
        #expect(VFIOABI.getAPIVersion == 0x3b64)
        #expect(VFIOABI.groupGetDeviceFD == 0x3b6a)
        #expect(VFIOABI.deviceSetIRQs == 0x3b6e)
        #expect(VFIOABI.iommuMapDMA == 0x3b71 && VFIOABI.iommuUnmapDMA == 0x3b72)
        #expect(MemoryLayout<VFIOABI.GroupStatus>.size == 8)
        #expect(MemoryLayout<VFIOABI.DeviceInfo>.size == 16)
        #expect(MemoryLayout<VFIOABI.RegionInfo>.size == 32)
        #expect(MemoryLayout<VFIOABI.IRQInfo>.size == 16)
        #expect(MemoryLayout<VFIOABI.IRQSetHeader>.size == 20)
        #expect(MemoryLayout<VFIOABI.DMAMap>.size == 32)
        #expect(MemoryLayout<VFIOABI.DMAUnmap>.size == 24)
    }
}
