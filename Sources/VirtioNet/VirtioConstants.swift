/// Constants from the virtio 1.0 specification (OASIS, 2016) and the legacy 0.9.5 PCI layout.
public enum Virtio {
    /// VIRTIO_MSI_NO_VECTOR: no MSI-X vector, interrupts go to INTx (virtio 1.0 §4.1.5.1.2).
    public static let noVector: UInt16 = 0xffff
    /// With MSI-X: vector 0 for configuration changes, 1 + q for RX queue q.
    public static let configVector: UInt16 = 0
    public static let firstQueueVector: UInt16 = 1

    /// Device status bits (virtio 1.0 §2.1).
    public enum Status {
        public static let acknowledge: UInt8 = 1
        public static let driver: UInt8 = 2
        public static let driverOK: UInt8 = 4
        public static let featuresOK: UInt8 = 8
        public static let needsReset: UInt8 = 64
        public static let failed: UInt8 = 128
    }

    /// Feature bits (virtio 1.0 §5.1.3 for the network device, §6 for the reserved ones).
    public enum Feature {
        public static let mac: UInt64 = 1 << 5
        public static let mergeableRXBuffers: UInt64 = 1 << 15
        public static let status: UInt64 = 1 << 16
        public static let controlQueue: UInt64 = 1 << 17
        public static let controlRX: UInt64 = 1 << 18
        /// VIRTIO_NET_F_MQ: several RX/TX queue pairs, set through the control queue
        /// (§5.1.5 "Device Initialization", §5.1.6.5.5); requires CTRL_VQ.
        public static let multiQueue: UInt64 = 1 << 22
        /// Legacy only: the header may share a descriptor with the frame (§5.1.6.6, legacy interface).
        public static let anyLayout: UInt64 = 1 << 27
        public static let ringEventIndex: UInt64 = 1 << 29
        public static let version1: UInt64 = 1 << 32
        /// VIRTIO_F_ACCESS_PLATFORM (virtio 1.1 §6): the device's DMA goes through the
        /// platform's IOMMU. A device that offers it (QEMU's iommu_platform=on) refuses
        /// FEATURES_OK from a driver that does not accept it.
        public static let accessPlatform: UInt64 = 1 << 33
    }

    /// Legacy PCI registers in BAR0, I/O space (virtio 1.0 §4.1.4.8). With MSI-X off, the
    /// device-specific config starts right after ISR, at 20.
    public enum LegacyRegister {
        public static let deviceFeatures = 0
        public static let driverFeatures = 4
        public static let queueAddress = 8   // page frame number, 4096-byte pages
        public static let queueSize = 12
        public static let queueSelect = 14
        public static let queueNotify = 16
        public static let deviceStatus = 18
        public static let isr = 19
        public static let deviceConfig = 20
        public static let queueAlignment = 4096
    }

    /// `struct virtio_pci_common_cfg` (virtio 1.0 §4.1.4.3).
    public enum CommonConfig {
        public static let deviceFeatureSelect = 0
        public static let deviceFeature = 4
        public static let driverFeatureSelect = 8
        public static let driverFeature = 12
        public static let msixConfig = 16
        public static let numQueues = 18
        public static let deviceStatus = 20
        public static let configGeneration = 21
        public static let queueSelect = 22
        public static let queueSize = 24
        public static let queueMSIXVector = 26
        public static let queueEnable = 28
        public static let queueNotifyOffset = 30
        public static let queueDescriptors = 32
        public static let queueAvailable = 40
        public static let queueUsed = 48
    }

    /// `cfg_type` of a virtio vendor capability (virtio 1.0 §4.1.4).
    public enum CapabilityType {
        public static let common: UInt8 = 1
        public static let notify: UInt8 = 2
        public static let isr: UInt8 = 3
        public static let device: UInt8 = 4
    }

    /// ISR status bits (virtio 1.0 §4.1.4.5): reading ISR clears it and deasserts INTx.
    public enum ISR {
        public static let queue: UInt8 = 1
        public static let configChange: UInt8 = 2
    }

    /// virtio-net config space (virtio 1.0 §5.1.4): mac[6], then status (u16).
    public enum NetConfig {
        public static let mac = 0
        public static let status = 6
        /// le16, present when VIRTIO_NET_F_MQ is offered.
        public static let maxVirtqueuePairs = 8
        public static let linkUp: UInt16 = 1
    }

    /// Control queue commands (virtio 1.0 §5.1.6.5).
    public enum Control {
        public static let classRX: UInt8 = 0
        public static let rxPromiscuous: UInt8 = 0
        /// VIRTIO_NET_CTRL_MQ and VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET with a le16 pair count (§5.1.6.5.5).
        public static let classMQ: UInt8 = 4
        public static let mqPairsSet: UInt8 = 0
        public static let ok: UInt8 = 0
    }

    public static let rxQueue = 0
    public static let txQueue = 1
    /// The control queue before MQ is negotiated; with MQ it follows the last pair, at
    /// 2 × max_virtqueue_pairs (§5.1.2).
    public static let controlQueue = 2

    /// Virtqueue numbers of queue pair `q` (§5.1.2: receiveq1 transmitq1 ... receiveqN transmitqN).
    public static func rxQueue(pair q: Int) -> Int { 2 * q }
    public static func txQueue(pair q: Int) -> Int { 2 * q + 1 }
}
