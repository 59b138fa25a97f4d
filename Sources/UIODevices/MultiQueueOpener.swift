import Ixgbe
import Logging
import Scheduler
import UIO
import VFIO
import VirtioNet

/// Code that runs with one device opened with several queue pairs (`--queues N`).
public protocol MultiQueueDeviceUser: ~Copyable {
    mutating func use<D: MultiQueueDevice & ~Copyable>(_ device: inout D) throws
}

extension DeviceOpener {
    /// Opens the device at `address` through `backend` with `queues` RX/TX queue pairs and
    /// runs `user`. virtio-net only for now: the Intel drivers (ixgbe, igb) have no RSS set-up
    /// yet. Through VFIO a modern virtio-net gets one MSI-X vector per RX queue (and one for
    /// configuration changes).
    public static func with<U: MultiQueueDeviceUser & ~Copyable>(
        _ address: String, queues: Int, backend: Backend = .auto, logger: Logger = .silent, _ user: inout U
    ) throws {
        let pci = try PCIAddress(parsing: address)
        let logger = logger.forDevice(address: pci, driver: nil)
        let route = try resolving(backend, for: pci, logger: logger)
        try withUnsafeMutablePointer(to: &user) { user in
            var logged = LoggedMultiQueueUser(user: user, logger: logger, backend: route)
            try opened(pci, logger: logger) {
                switch route {
                case .uio, .auto:  // resolve(for:) never answers .auto
                    try runMultiQueue(UIOPCIDevice(address: pci), allocator: HugepageAllocator(), queues: queues, &logged)
                case .vfio:
                    let function = try VFIOPCIDevice(address: pci, interrupts: try vfioInterrupts(for: pci, queues: queues))
                    let allocator = function.dmaAllocator
                    try runMultiQueue(function, allocator: allocator, queues: queues, &logged)
                }
            }
        }
    }

    static func runMultiQueue<F: PCIFunction & ~Copyable, A: DMAAllocator, U: MultiQueueDeviceUser & ~Copyable>(
        _ function: consuming F, allocator: A, queues: Int, _ user: inout U
    ) throws {
        let address = function.address
        switch try DriverRegistry.require(vendor: function.vendorID, device: function.deviceID) {
        case .virtioNet:
            var configuration = VirtioNetDevice<F, A>.Configuration()
            configuration.queuePairs = queues
            var device = try VirtioNetDevice(function: function, allocator: allocator, configuration: configuration)
            defer { device.shutdown() }
            try user.use(&device)
        case .ixgbe:
            throw UIOError.device("\(address): ixgbe does not spread traffic over queues yet (no RSS set-up); use --queues 1")
        case .igb:
            throw UIOError.device("\(address): igb does not spread traffic over queues yet (no RSS set-up); use --queues 1")
        }
    }
}
