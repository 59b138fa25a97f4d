import Igb
import Ixgbe
import UIO
import VirtioNet

extension DeviceOpener {
    /// The driver switch, the only one: the registry names the driver for the function's PCI
    /// ID, and each case builds that driver's configuration for `queues` queue pairs and hands
    /// the device to `user`. Generic over the function, the allocator and the user, so every
    /// driver call specialises; single-queue opening is `queues` = 1 (each driver's default).
    static func run<F: PCIFunction & ~Copyable, A: DMAAllocator, U: MultiQueueDeviceUser & ~Copyable>(
        _ function: consuming F, allocator: A, queues: Int = 1, _ user: inout U
    ) throws {
        let address = function.address
        switch try DriverRegistry.require(vendor: function.vendorID, device: function.deviceID) {
        case .virtioNet:
            var configuration = VirtioNetDevice<F, A>.Configuration()
            configuration.queuePairs = queues
            try use(VirtioNetDevice(function: function, allocator: allocator, configuration: configuration), &user)
        case .ixgbe:
            try requireRSSQueues(queues, driver: "ixgbe", address: address)
            let configuration = IxgbeConfiguration(rxQueues: queues, txQueues: queues)
            try use(IxgbeDevice(function: function, allocator: allocator, configuration: configuration), &user)
        case .igb:
            try requireRSSQueues(queues, driver: "igb", address: address)
            let configuration = IgbConfiguration(rxQueues: queues, txQueues: queues)
            try use(IgbDevice(function: function, allocator: allocator, configuration: configuration), &user)
        }
    }

    /// Runs `user` with the opened device, and shuts the device down (DMA stopped, reset)
    /// when it returns or throws.
    static func use<D: MultiQueueDevice & ~Copyable, U: MultiQueueDeviceUser & ~Copyable>(
        _ device: consuming D, _ user: inout U
    ) throws {
        var device = device
        defer { device.shutdown() }
        try user.use(&device)
    }

    /// RSS's redirection table names queues 0…15 (4-bit entries on both Intel chips).
    static func requireRSSQueues(_ queues: Int, driver: String, address: PCIAddress) throws {
        guard (1...16).contains(queues) else {
            throw UIOError.device("\(address): \(driver) spreads flows with RSS over 1 to 16 queues (its redirection table names queues 0…15); use --queues 1 to 16")
        }
    }
}

/// A single-queue `DeviceUser` in the switch, which hands on a device opened with one queue pair.
struct SingleQueueUser<U: DeviceUser & ~Copyable>: MultiQueueDeviceUser {
    let user: UnsafeMutablePointer<U>

    mutating func use<D: MultiQueueDevice & ~Copyable>(_ device: inout D) throws {
        try user.pointee.use(&device)
    }
}
