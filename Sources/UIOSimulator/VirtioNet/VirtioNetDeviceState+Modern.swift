/// The modern layout: common config, ISR, device config and notifications in BAR4
/// (virtio 1.0 §4.1.4), at QEMU's offsets.
extension VirtioNetDeviceState {
    typealias Modern = VirtioNetModelLayout.Modern
    typealias Common = VirtioNetModelLayout.Common

    /// Without MSI-X every vector reads back as VIRTIO_MSI_NO_VECTOR, which is what QEMU
    /// answers when the vector cannot be used (uio_pci_generic never enables MSI-X).
    static let noVector: UInt32 = 0xffff

    mutating func readModern(offset: Int, width: Int) -> UInt32 {
        switch offset {
        case Modern.commonOffset ..< Modern.commonOffset + Modern.regionSize:
            return readCommon(offset - Modern.commonOffset, width: width)
        case Modern.isrOffset:
            return UInt32(readISR())
        case Modern.deviceOffset ..< Modern.deviceOffset + Modern.regionSize:
            return readNetConfig(offset - Modern.deviceOffset, width: width)
        default:
            record(.register("BAR4: \(width)-byte read at 0x\(String(offset, radix: 16)) is in no region"))
            return 0
        }
    }

    mutating func writeModern(offset: Int, width: Int, value: UInt32) {
        switch offset {
        case Modern.commonOffset ..< Modern.commonOffset + Modern.regionSize:
            writeCommon(offset - Modern.commonOffset, width: width, value: value)
        case Modern.notifyOffset ..< Modern.notifyOffset + Modern.regionSize:
            // The address names the queue: queue_notify_off × notify_off_multiplier (§4.1.4.4).
            let relative = offset - Modern.notifyOffset
            guard relative % Int(Modern.notifyOffMultiplier) == 0 else {
                record(.register("notify write at BAR4+0x\(String(offset, radix: 16)) is not at a queue's notify address"))
                return
            }
            notify(queue: relative / Int(Modern.notifyOffMultiplier))
        case Modern.deviceOffset ..< Modern.deviceOffset + Modern.regionSize:
            return  // read-only without VIRTIO_NET_F_CTRL_MAC_ADDR
        default:
            record(.register("BAR4: \(width)-byte write at 0x\(String(offset, radix: 16)) is in no writable region"))
        }
    }

    private mutating func readCommon(_ offset: Int, width: Int) -> UInt32 {
        let q = selectedQueue
        switch (offset, width) {
        case (Common.deviceFeatureSelect, 4): return deviceFeatureSelect
        case (Common.deviceFeature, 4):
            return deviceFeatureSelect < 2 ? UInt32(truncatingIfNeeded: offered.rawValue >> (32 * UInt64(deviceFeatureSelect))) : 0
        case (Common.driverFeatureSelect, 4): return driverFeatureSelect
        case (Common.driverFeature, 4): return driverFeatureSelect < 2 ? driverFeatureWindow[Int(driverFeatureSelect)] : 0
        case (Common.msixConfig, 2): return Self.noVector
        case (Common.numQueues, 2): return UInt32(queues.count)
        case (Common.deviceStatus, 1): return UInt32(status)
        case (Common.configGeneration, 1): return UInt32(configGeneration)
        case (Common.queueSelect, 2): return UInt32(queueSelect)
        case (Common.queueSize, 2): return UInt32(q.map { queues[$0].size } ?? 0)  // 0: not available
        case (Common.queueMSIXVector, 2): return Self.noVector
        case (Common.queueEnable, 2): return q.map { queues[$0].enabled ? 1 : 0 } ?? 0
        case (Common.queueNotifyOff, 2): return UInt32(q ?? 0)
        case (Common.queueDesc, 4), (Common.queueDesc + 4, 4),
             (Common.queueAvail, 4), (Common.queueAvail + 4, 4),
             (Common.queueUsed, 4), (Common.queueUsed + 4, 4):
            guard let q else { return 0 }
            let value: UInt64
            switch offset & ~7 {
            case Common.queueDesc: value = queues[q].descriptorTable
            case Common.queueAvail: value = queues[q].availRing
            default: value = queues[q].usedRing
            }
            return UInt32(truncatingIfNeeded: offset & 4 == 0 ? value : value >> 32)
        default:
            record(.register("common config: \(width)-byte read at 0x\(String(offset, radix: 16)) matches no field"))
            return 0
        }
    }

    private mutating func writeCommon(_ offset: Int, width: Int, value: UInt32) {
        switch (offset, width) {
        case (Common.deviceFeatureSelect, 4): deviceFeatureSelect = value
        case (Common.driverFeatureSelect, 4): driverFeatureSelect = value
        case (Common.driverFeature, 4):
            if driverFeatureSelect < 2 {
                driverFeatureWindow[Int(driverFeatureSelect)] = value
            } else if value != 0 {
                record(.protocolViolation("driver_feature written 0x\(String(value, radix: 16)) with select \(driverFeatureSelect): no such features"))
            }
        case (Common.msixConfig, 2), (Common.queueMSIXVector, 2):
            return  // no MSI-X: the vector reads back as NO_VECTOR
        case (Common.deviceStatus, 1): writeStatus(UInt8(truncatingIfNeeded: value))
        case (Common.queueSelect, 2): queueSelect = UInt16(truncatingIfNeeded: value)
        case (Common.queueSize, 2): writeQueueSize(Int(value))
        case (Common.queueEnable, 2): writeQueueEnable(value)
        case (Common.queueDesc, 4), (Common.queueDesc + 4, 4),
             (Common.queueAvail, 4), (Common.queueAvail + 4, 4),
             (Common.queueUsed, 4), (Common.queueUsed + 4, 4):
            writeQueueAddress(offset, value)
        default:
            record(.register("common config: \(width)-byte write of 0x\(String(value, radix: 16)) at 0x\(String(offset, radix: 16)) matches no writable field"))
        }
    }

    private mutating func writeQueueSize(_ size: Int) {
        guard let q = selectedQueue else { return record(.register("queue_size written for queue \(queueSelect), which does not exist")) }
        guard !queues[q].enabled else { return record(.protocolViolation("queue_size of queue \(q) written after it was enabled")) }
        guard size > 0, size <= queues[q].maxSize, size & (size - 1) == 0 else {
            return record(.protocolViolation("queue_size \(size) for queue \(q): a split ring needs a power of two up to \(queues[q].maxSize)"))
        }
        queues[q].size = size
    }

    private mutating func writeQueueEnable(_ value: UInt32) {
        guard let q = selectedQueue else { return record(.register("queue_enable written for queue \(queueSelect), which does not exist")) }
        guard value == 1 else { return record(.protocolViolation("queue_enable written \(value): the driver may only write 1 (virtio 1.0 §4.1.4.3.2)")) }
        let queue = queues[q]
        // Alignment of the split ring parts (virtio 1.0 §2.4): 16, 2 and 4 bytes.
        guard queue.descriptorTable % 16 == 0, queue.availRing % 2 == 0, queue.usedRing % 4 == 0,
              queue.descriptorTable != 0, queue.availRing != 0, queue.usedRing != 0 else {
            return record(.protocolViolation("queue \(q) enabled with desc 0x\(String(queue.descriptorTable, radix: 16)), avail 0x\(String(queue.availRing, radix: 16)), used 0x\(String(queue.usedRing, radix: 16)): all must be set and aligned (16, 2, 4)"))
        }
        queues[q].enabled = true
    }

    private mutating func writeQueueAddress(_ offset: Int, _ value: UInt32) {
        guard let q = selectedQueue else { return record(.register("queue address written for queue \(queueSelect), which does not exist")) }
        let high = offset & 4 != 0
        func merge(_ old: UInt64) -> UInt64 {
            high ? (old & 0xffff_ffff) | UInt64(value) << 32 : (old & ~0xffff_ffff) | UInt64(value)
        }
        switch offset & ~7 {
        case Common.queueDesc: queues[q].descriptorTable = merge(queues[q].descriptorTable)
        case Common.queueAvail: queues[q].availRing = merge(queues[q].availRing)
        default: queues[q].usedRing = merge(queues[q].usedRing)
        }
    }
}
