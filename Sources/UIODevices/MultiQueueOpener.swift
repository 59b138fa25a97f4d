import Logging
import Scheduler
import UIO

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
        try open(address, queues: queues, backend: backend, logger: logger, &user)
    }

}
