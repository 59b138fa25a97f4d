import UIO

/// The PCI IDs this driver accepts: the one place to add one. The driver's own check and its
/// choice of transport, the registry in `UIODevices` (the opener, `uioctl list`), the opener's
/// MSI-X choice and the tests that hold the simulator's model against it all read it.
public enum VirtioNetDeviceIDs {
    /// Red Hat / Qumranet, the virtio vendor (virtio 1.0 §4.1.2).
    public static let vendorID: UInt16 = 0x1af4

    /// virtio 1.0 §4.1.2: transitional 0x1000 (driven through the legacy interface), modern
    /// 0x1040 + device type 1. Add a device as one line here.
    public static let supported: [VirtioNetDeviceID] = [
        VirtioNetDeviceID(0x1000, "virtio-net (legacy/transitional)", .legacy),
        VirtioNetDeviceID(0x1041, "virtio-net (modern)", .modern),
    ]

    /// The entry for a vendor and device ID, or nil if this driver does not drive it.
    public static func entry(vendor: UInt16, device: UInt16) -> VirtioNetDeviceID? {
        guard vendor == vendorID else { return nil }
        return supported.first { $0.deviceID == device }
    }
}

/// One row of `VirtioNetDeviceIDs.supported`: a device ID, its name and the transport it uses.
public struct VirtioNetDeviceID: Sendable, Equatable {
    /// The PCI device ID.
    public let deviceID: UInt16
    /// How `uioctl list` names it.
    public let name: String
    /// Legacy I/O-port registers or modern capabilities. Only the modern transport programs
    /// MSI-X vectors (virtio 1.0 §4.1.4.3: `config_msix_vector`, `queue_msix_vector`).
    public let layout: VirtioPCILayout

    /// A table row.
    public init(_ deviceID: UInt16, _ name: String, _ layout: VirtioPCILayout) {
        self.deviceID = deviceID
        self.name = name
        self.layout = layout
    }
}

/// Legacy (virtio 0.9.5, I/O-port registers) or modern (virtio 1.0, capabilities in MMIO).
public enum VirtioPCILayout: String, Sendable { case legacy, modern }
