/// The VFIO user-space ABI from `<linux/vfio.h>`, written out in Swift.
///
/// Swift cannot import the header's `_IO()` request macros, and every VFIO ioctl is a plain
/// `_IO(';', 100 + n)` (no size or direction bits: the structs carry their own `argsz`), so
/// the request numbers are `0x3b00 | (100 + n)`. The struct layouts below are the header's,
/// field for field; `VFIOABITests` checks their sizes against the C definitions.
public enum VFIOABI {
    /// `VFIO_TYPE` (';') and `VFIO_BASE` (100).
    static func request(_ n: UInt) -> UInt { 0x3b << 8 | (100 + n) }

    public static let getAPIVersion = request(0)       // VFIO_GET_API_VERSION
    public static let checkExtension = request(1)      // VFIO_CHECK_EXTENSION
    public static let setIOMMU = request(2)            // VFIO_SET_IOMMU
    public static let groupGetStatus = request(3)      // VFIO_GROUP_GET_STATUS
    public static let groupSetContainer = request(4)   // VFIO_GROUP_SET_CONTAINER
    public static let groupGetDeviceFD = request(6)    // VFIO_GROUP_GET_DEVICE_FD
    public static let deviceGetInfo = request(7)       // VFIO_DEVICE_GET_INFO
    public static let deviceGetRegionInfo = request(8) // VFIO_DEVICE_GET_REGION_INFO
    public static let deviceGetIRQInfo = request(9)    // VFIO_DEVICE_GET_IRQ_INFO
    public static let deviceSetIRQs = request(10)      // VFIO_DEVICE_SET_IRQS
    public static let deviceReset = request(11)        // VFIO_DEVICE_RESET
    public static let iommuMapDMA = request(13)        // VFIO_IOMMU_MAP_DMA
    public static let iommuUnmapDMA = request(14)      // VFIO_IOMMU_UNMAP_DMA

    public static let apiVersion: CInt = 0             // VFIO_API_VERSION
    public static let type1v2IOMMU: CInt = 3           // VFIO_TYPE1v2_IOMMU
    public static let groupFlagViable: UInt32 = 1      // VFIO_GROUP_FLAGS_VIABLE

    public static let regionFlagRead: UInt32 = 1 << 0  // VFIO_REGION_INFO_FLAG_READ
    public static let regionFlagWrite: UInt32 = 1 << 1 // VFIO_REGION_INFO_FLAG_WRITE
    public static let regionFlagMmap: UInt32 = 1 << 2  // VFIO_REGION_INFO_FLAG_MMAP

    /// VFIO_PCI_*_REGION_INDEX: BARs 0–5 are indices 0–5, then ROM, then config space.
    public static let configRegionIndex: UInt32 = 7

    /// VFIO_PCI_*_IRQ_INDEX.
    public static let intxIRQIndex: UInt32 = 0
    public static let msixIRQIndex: UInt32 = 2

    public static let irqSetDataNone: UInt32 = 1 << 0      // VFIO_IRQ_SET_DATA_NONE
    public static let irqSetDataEventFD: UInt32 = 1 << 2   // VFIO_IRQ_SET_DATA_EVENTFD
    public static let irqSetActionUnmask: UInt32 = 1 << 4  // VFIO_IRQ_SET_ACTION_UNMASK
    public static let irqSetActionTrigger: UInt32 = 1 << 5 // VFIO_IRQ_SET_ACTION_TRIGGER

    public static let dmaMapRead: UInt32 = 1 << 0      // VFIO_DMA_MAP_FLAG_READ (device reads)
    public static let dmaMapWrite: UInt32 = 1 << 1     // VFIO_DMA_MAP_FLAG_WRITE (device writes)

    /// `struct vfio_group_status`.
    public struct GroupStatus {
        public var argsz = UInt32(MemoryLayout<GroupStatus>.size), flags: UInt32 = 0
    }

    /// `struct vfio_device_info` up to `num_irqs` (the kernel's minimum size).
    public struct DeviceInfo {
        public var argsz = UInt32(MemoryLayout<DeviceInfo>.size), flags: UInt32 = 0
        public var regionCount: UInt32 = 0, irqCount: UInt32 = 0
    }

    /// `struct vfio_region_info`.
    public struct RegionInfo {
        public var argsz = UInt32(MemoryLayout<RegionInfo>.size), flags: UInt32 = 0
        public var index: UInt32 = 0, capabilityOffset: UInt32 = 0
        public var size: UInt64 = 0, offset: UInt64 = 0
    }

    /// `struct vfio_irq_info`.
    public struct IRQInfo {
        public var argsz = UInt32(MemoryLayout<IRQInfo>.size), flags: UInt32 = 0
        public var index: UInt32 = 0, count: UInt32 = 0
    }

    /// `struct vfio_irq_set` without its trailing `data[]` (20 bytes; the eventfds follow).
    public struct IRQSetHeader {
        public var argsz: UInt32 = 0, flags: UInt32 = 0
        public var index: UInt32 = 0, start: UInt32 = 0, count: UInt32 = 0
    }

    /// `struct vfio_iommu_type1_dma_map`.
    public struct DMAMap {
        public var argsz = UInt32(MemoryLayout<DMAMap>.size), flags: UInt32 = 0
        public var virtualAddress: UInt64 = 0, iova: UInt64 = 0, size: UInt64 = 0
    }

    /// `struct vfio_iommu_type1_dma_unmap` without its trailing `data[]`.
    public struct DMAUnmap {
        public var argsz = UInt32(MemoryLayout<DMAUnmap>.size), flags: UInt32 = 0
        public var iova: UInt64 = 0, size: UInt64 = 0
    }
}
