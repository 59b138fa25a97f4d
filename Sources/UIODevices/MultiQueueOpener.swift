import Igb
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
    /// runs `user`. virtio-net spreads flows with VIRTIO_NET_F_MQ (the device picks the queue);
    /// ixgbe and igb with RSS (the Toeplitz hash through the redirection table, over up to 16
    /// queues). Through VFIO a modern virtio-net gets one MSI-X vector per RX queue (and one
    /// for configuration changes); the Intel drivers use INTx and the fan-out there too.
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
            try requireRSSQueues(queues, driver: "ixgbe", address: address)
            var configuration = IxgbeConfiguration()
            configuration.rxQueues = queues
            configuration.txQueues = queues
            var device = try IxgbeDevice(function: function, allocator: allocator, configuration: configuration)
            defer { device.shutdown() }
            try user.use(&device)
        case .igb:
            try requireRSSQueues(queues, driver: "igb", address: address)
            var configuration = IgbConfiguration()
            configuration.rxQueues = queues
            configuration.txQueues = queues
            var device = try IgbDevice(function: function, allocator: allocator, configuration: configuration)
            defer { device.shutdown() }
            try user.use(&device)
        }
    }

    /// RSS's redirection table names queues 0…15 (4-bit entries on both Intel chips).
    static func requireRSSQueues(_ queues: Int, driver: String, address: PCIAddress) throws {
        guard (1...16).contains(queues) else {
            throw UIOError.device("\(address): \(driver) spreads flows with RSS over 1 to 16 queues (its redirection table names queues 0…15); use --queues 1 to 16")
        }
    }
}
