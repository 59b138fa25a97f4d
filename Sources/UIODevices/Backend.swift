import UIO

/// The kernel route to a device: UIO (no IOMMU protection; physical addresses from pagemap)
/// or VFIO (DMA confined by the IOMMU; no root needed). The examples' `--backend`.
public enum Backend: String, Sendable, CaseIterable {
    /// Whatever the device is bound to: vfio-pci means VFIO, a UIO driver means UIO.
    case auto, uio, vfio

    /// The route to use for `address`; `.auto` reads the device's driver from sysfs
    /// (`/sys/bus/pci/devices/ADDR/driver` and `.../uio/`). Never answers `.auto`.
    public func resolve(for address: PCIAddress, sysfs: Sysfs = .live) throws -> Backend {
        if self != .auto { return self }
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        if info.driver == "vfio-pci" { return .vfio }
        if info.uioIndex != nil { return .uio }
        throw UIOError.device("\(address) is bound to \(info.driver.map { "'\($0)'" } ?? "no driver"), neither vfio-pci nor a UIO driver: "
            + "as root, run `uioctl bind --vfio \(address)` (where an IOMMU exists) or `uioctl bind \(address)` (UIO), then try again")
    }
}
