#if canImport(Glibc)
import Glibc
#endif
import Logging
import Scheduler
import UIO
import VFIO
import VirtioNet

/// Code that runs with one opened device, whichever driver it needs. Generic, so the driver's
/// calls are specialised: the registry's choice is a `switch`, never an existential.
public protocol DeviceUser: ~Copyable {
    mutating func use<D: NetworkDevice & ~Copyable>(_ device: inout D) throws
}

/// Code that runs with two opened devices (a forwarder).
public protocol DevicePairUser {
    mutating func use<A: NetworkDevice & ~Copyable, B: NetworkDevice & ~Copyable>(_ a: inout A, _ b: inout B) throws
}

/// Opens "the device at this PCI address" with the driver its PCI ID needs (virtio-net, ixgbe,
/// igb; see ``DriverRegistry``) through the kernel route it is bound to (UIO or VFIO), and hands
/// it to a generic user. An application never names a driver type: it writes a `DeviceUser`
/// and every driver call in it is specialised for each driver.
///
/// ```swift
/// struct Count: DeviceUser {
///     mutating func use<D: NetworkDevice & ~Copyable>(_ device: inout D) throws {
///         print(device.driverName, device.link)
///     }
/// }
/// var user = Count()
/// try DeviceOpener.with("0000:00:04.0", &user)
/// ```
public enum DeviceOpener {
    /// Opens the device at `address` through `backend` (by default whichever kernel route it
    /// is bound to: vfio-pci or a UIO driver), picks its driver from the PCI ID, and runs
    /// `user`. The device is shut down (DMA stopped, reset) when `user` returns or throws.
    /// The set-up steps and the reset are logged to `logger`, with the PCI address and the
    /// driver as metadata.
    public static func with<U: DeviceUser & ~Copyable>(
        _ address: String, backend: Backend = .auto, logger: Logger = .silent, _ user: inout U
    ) throws {
        try withUnsafeMutablePointer(to: &user) { user in
            var oneQueue = SingleQueueUser(user: user)
            try open(address, queues: 1, backend: backend, logger: logger, &oneQueue)
        }
    }

    /// Opens the device at `address` with `queues` queue pairs through the route `backend`
    /// resolves to, and runs `user` through the driver switch: what every `with` comes down to.
    static func open<U: MultiQueueDeviceUser & ~Copyable>(
        _ address: String, queues: Int, backend: Backend, logger: Logger, _ user: inout U
    ) throws {
        let pci = try PCIAddress(parsing: address)
        let logger = logger.forDevice(address: pci, driver: nil)
        let route = try resolving(backend, for: pci, logger: logger)
        try withUnsafeMutablePointer(to: &user) { user in
            var logged = LoggedDeviceUser(user: user, logger: logger, backend: route)
            try opened(pci, logger: logger) {
                switch route {
                case .uio, .auto:  // resolve(for:) never answers .auto
                    try run(UIOPCIDevice(address: pci), allocator: HugepageAllocator(), queues: queues, &logged)
                case .vfio:
                    let function = try VFIOPCIDevice(address: pci, interrupts: try vfioInterrupts(for: pci, queues: queues))
                    let allocator = function.dmaAllocator
                    try run(function, allocator: allocator, queues: queues, &logged)
                }
            }
        }
    }

    /// `backend.resolve(for:)`, logged.
    static func resolving(_ backend: Backend, for address: PCIAddress, logger: Logger) throws -> Backend {
        let route = try backend.resolve(for: address)
        logger.debug("opening the device", metadata: ["backend": "\(route.rawValue)", "asked": "\(backend.rawValue)"])
        return route
    }

    /// Runs `body` (which opens, uses and shuts down the device) and logs how it ended.
    static func opened(_ address: PCIAddress, logger: Logger, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            logger.debug("device closed after an error", metadata: ["error": "\(error)"])
            throw error
        }
        logger.info("device shut down: DMA stopped, reset")
    }

    /// MSI-X for modern virtio-net, the one driver that programs vectors (config, and one per
    /// RX queue); INTx for the others, or when SWIFT_UIO_VFIO_INTERRUPTS=intx asks for it.
    static func vfioInterrupts(
        for address: PCIAddress, queues: Int = 1, sysfs: Sysfs = .live,
        forced: String? = getenv("SWIFT_UIO_VFIO_INTERRUPTS").map { String(cString: $0) }
    ) throws -> VFIOInterruptLine.Mode {
        if let forced {
            switch forced {
            case "intx": return .intx
            case "msix": return .msix(vectors: 1 + queues)
            default: throw UIOError.device("SWIFT_UIO_VFIO_INTERRUPTS='\(forced)': use intx or msix")
            }
        }
        let info = try PCIDeviceInfo(address: address, sysfs: sysfs)
        let virtio = VirtioNetDeviceIDs.entry(vendor: info.vendorID, device: info.deviceID)
        return virtio?.layout == .modern ? .msix(vectors: 1 + queues) : .intx
    }

    /// Opens two devices (they must differ) and runs `user` with both.
    public static func with<U: DevicePairUser>(
        _ first: String, _ second: String, backend: Backend = .auto, logger: Logger = .silent, _ user: inout U
    ) throws {
        guard try PCIAddress(parsing: first) != PCIAddress(parsing: second) else {
            throw UIOError.device("the two devices must differ (both are \(first))")
        }
        var opener = FirstOfPair(second: second, backend: backend, logger: logger, user: user)
        try with(first, backend: backend, logger: logger, &opener)
        user = opener.user
    }

    /// Holds the first device open while the second one is opened.
    struct FirstOfPair<U: DevicePairUser>: DeviceUser {
        let second: String
        let backend: Backend
        let logger: Logger
        var user: U
        mutating func use<A: NetworkDevice & ~Copyable>(_ a: inout A) throws {
            try withUnsafeMutablePointer(to: &a) { first in
                var opener = SecondOfPair(first: first, user: user)
                try DeviceOpener.with(second, backend: backend, logger: logger, &opener)
                user = opener.user
            }
        }
    }

    struct SecondOfPair<A: NetworkDevice & ~Copyable, U: DevicePairUser>: DeviceUser {
        let first: UnsafeMutablePointer<A>
        var user: U
        mutating func use<B: NetworkDevice & ~Copyable>(_ b: inout B) throws {
            try user.use(&first.pointee, &b)
        }
    }
}
