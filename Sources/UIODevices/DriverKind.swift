/// Which swift-uio driver handles a PCI vendor and device ID.
///
/// The registry only names the driver: an application switches on the result and calls a
/// generic function with the concrete driver type, so no existential is ever created.
public enum DriverKind: String, Sendable, CaseIterable {
    case virtioNet = "virtio-net"
    case ixgbe = "ixgbe"
    case igb = "igb"
}
