#if canImport(Glibc)
import Glibc
#endif
import UIO

/// An IOMMU group as sysfs shows it: `/sys/kernel/iommu_groups/N` and its VFIO node `/dev/vfio/N`.
///
/// The IOMMU isolates groups, not devices: devices in one group may reach each other's DMA,
/// so VFIO hands out a group only when every device in it is bound to vfio-pci or to nothing.
public struct VFIOGroupInfo: Sendable, Equatable {
    public let number: String
    public let members: [PCIAddress]

    public var devicePath: String { "/dev/vfio/\(number)" }

    /// The group of `address`, from its `iommu_group` link.
    public init(address: PCIAddress, sysfs: Sysfs = .live) throws {
        guard let target = sysfs.linkTarget("/sys/bus/pci/devices/\(address)/iommu_group") else {
            if !sysfs.exists("/sys/bus/pci/devices/\(address)") { throw UIOError.noSuchDevice(address) }
            throw VFIOError.noIOMMUGroup(address)
        }
        number = target
        members = sysfs.list("/sys/kernel/iommu_groups/\(target)/devices").compactMap { try? PCIAddress(parsing: $0) }
    }

    /// Drivers that leave a group usable: vfio-pci, none, and pcieport (the kernel lets a
    /// bridge keep its port driver, see drivers/vfio/vfio_main.c).
    public static let harmlessDrivers: Set<String> = ["vfio-pci", "pcieport", "pci-stub"]

    /// Members bound to a driver that makes the group unusable, as "ADDR (driver)".
    public func blockers(sysfs: Sysfs = .live) -> [String] {
        members.compactMap { member in
            guard let driver = sysfs.linkTarget("/sys/bus/pci/devices/\(member)/driver"),
                  !Self.harmlessDrivers.contains(driver) else { return nil }
            return "\(member) (\(driver))"
        }
    }
}
