/// Register layouts, bits and structure offsets of virtio-net, as the model implements them.
/// Named after the spec (virtio 1.0, OASIS csprd01/cs04; legacy = virtio 0.9.5).
public enum VirtioNetModelLayout {
    public static let vendorID: UInt16 = 0x1af4
    /// Transitional/legacy virtio-net (virtio 1.0 §4.1.2.3).
    public static let legacyDeviceID: UInt16 = 0x1000
    /// 0x1040 + device type 1 (virtio 1.0 §4.1.2.1).
    public static let modernDeviceID: UInt16 = 0x1041

    /// Legacy BAR0, I/O ports (virtio 1.0 §4.1.4.8 "Legacy Interfaces: A Note on PCI Device Layout").
    public enum Legacy {
        public static let hostFeatures = 0       // 32, RO
        public static let guestFeatures = 4      // 32, RW
        public static let queuePFN = 8           // 32, RW: physical address >> 12
        public static let queueSize = 12         // 16, RO
        public static let queueSelect = 14       // 16, RW
        public static let queueNotify = 16       // 16, RW
        public static let deviceStatus = 18      // 8, RW
        public static let isrStatus = 19         // 8, RO, read clears
        /// Device config without MSI-X (with MSI-X enabled it would move to 24).
        public static let deviceConfig = 20
        /// Ring alignment of the legacy layout (virtio 0.9.5 "Virtqueue Configuration").
        public static let queueAlignment: UInt64 = 4096
        public static let pfnShift: UInt64 = 12
        public static let barSize = 32
    }

    /// The modern layout in BAR4, placed as QEMU places it.
    public enum Modern {
        public static let bar = 4
        public static let barSize = 0x4000
        public static let commonOffset = 0x0000
        public static let isrOffset = 0x1000
        public static let deviceOffset = 0x2000
        public static let notifyOffset = 0x3000
        public static let regionSize = 0x1000
        public static let notifyOffMultiplier: UInt32 = 4

        /// virtio_pci_cap.cfg_type (virtio 1.0 §4.1.4).
        public static let capCommon: UInt8 = 1
        public static let capNotify: UInt8 = 2
        public static let capISR: UInt8 = 3
        public static let capDevice: UInt8 = 4
        public static let capPCI: UInt8 = 5
    }

    /// struct virtio_pci_common_cfg (virtio 1.0 §4.1.4.3).
    public enum Common {
        public static let deviceFeatureSelect = 0x00  // 32 RW
        public static let deviceFeature = 0x04        // 32 RO
        public static let driverFeatureSelect = 0x08  // 32 RW
        public static let driverFeature = 0x0c        // 32 RW
        public static let msixConfig = 0x10           // 16 RW
        public static let numQueues = 0x12            // 16 RO
        public static let deviceStatus = 0x14         // 8 RW
        public static let configGeneration = 0x15     // 8 RO
        public static let queueSelect = 0x16          // 16 RW
        public static let queueSize = 0x18            // 16 RW
        public static let queueMSIXVector = 0x1a      // 16 RW
        public static let queueEnable = 0x1c          // 16 RW
        public static let queueNotifyOff = 0x1e       // 16 RO
        public static let queueDesc = 0x20            // 64 RW
        public static let queueAvail = 0x28           // 64 RW (queue_driver)
        public static let queueUsed = 0x30            // 64 RW (queue_device)
    }

    /// Device status bits (virtio 1.0 §2.1).
    public enum Status {
        public static let acknowledge: UInt8 = 1
        public static let driver: UInt8 = 2
        public static let driverOK: UInt8 = 4
        public static let featuresOK: UInt8 = 8
        public static let deviceNeedsReset: UInt8 = 64
        public static let failed: UInt8 = 128
    }

    /// ISR status bits (virtio 1.0 §4.1.4.5).
    public enum ISR {
        public static let queue: UInt8 = 1
        public static let configChange: UInt8 = 2
    }

    /// Split virtqueue structures (virtio 1.0 §2.4).
    public enum Ring {
        public static let descriptorSize = 16
        public static let descFlagNext: UInt16 = 1
        public static let descFlagWrite: UInt16 = 2
        public static let descFlagIndirect: UInt16 = 4
        public static let availFlagNoInterrupt: UInt16 = 1
        public static let usedFlagNoNotify: UInt16 = 1
        public static let maxSize = 32768
    }

    /// struct virtio_net_config (virtio 1.0 §5.1.4).
    public enum NetConfig {
        public static let mac = 0
        public static let status = 6
        public static let maxVirtqueuePairs = 8
        public static let size = 10
        public static let statusLinkUp: UInt16 = 1
    }

    /// struct virtio_net_hdr (virtio 1.0 §5.1.6).
    public enum NetHeader {
        /// Without VERSION_1 and MRG_RXBUF (the legacy header has no num_buffers).
        public static let legacySize = 10
        public static let size = 12
        public static let numBuffersOffset = 10
    }

    /// Control virtqueue (virtio 1.0 §5.1.6.5).
    public enum Control {
        public static let classRX: UInt8 = 0
        public static let rxPromisc: UInt8 = 0
        public static let rxAllMulti: UInt8 = 1
        /// VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET with le16 virtqueue_pairs (§5.1.6.5.5).
        public static let classMQ: UInt8 = 4
        public static let mqPairsSet: UInt8 = 0
        public static let ok: UInt8 = 0
        public static let err: UInt8 = 1
    }

    public static let rxQueue = 0
    public static let txQueue = 1
    public static let controlQueue = 2
}
