/// The legacy register block in BAR0 (virtio 1.0 §4.1.4.8; virtio 0.9.5 §2.1).
/// Widths are checked: a real device decodes I/O ports by address, so a wrong-width access
/// is a driver bug that happens to work on QEMU and not elsewhere.
extension VirtioNetDeviceState {
    typealias Legacy = VirtioNetModelLayout.Legacy

    mutating func readLegacy(offset: Int, width: Int) -> UInt32 {
        if offset >= Legacy.deviceConfig { return readNetConfig(offset - Legacy.deviceConfig, width: width) }
        switch (offset, width) {
        case (Legacy.hostFeatures, 4): return UInt32(truncatingIfNeeded: offered.rawValue)
        case (Legacy.guestFeatures, 4): return UInt32(truncatingIfNeeded: negotiated.rawValue)
        case (Legacy.queuePFN, 4): return selectedQueue.map { queues[$0].legacyPFN } ?? 0
        // Legacy queues have a fixed size; 0 means "no such queue".
        case (Legacy.queueSize, 2): return UInt32(selectedQueue.map { queues[$0].maxSize } ?? 0)
        case (Legacy.queueSelect, 2): return UInt32(queueSelect)
        case (Legacy.queueNotify, 2): return 0
        case (Legacy.deviceStatus, 1): return UInt32(status)
        case (Legacy.isrStatus, 1): return UInt32(readISR())
        default:
            record(.register("legacy BAR0: \(width)-byte read at offset \(offset) matches no register"))
            return 0
        }
    }

    mutating func writeLegacy(offset: Int, width: Int, value: UInt32) {
        switch (offset, width) {
        case (Legacy.guestFeatures, 4):
            let wanted = VirtioNetFeatures(rawValue: UInt64(value))
            let unknown = wanted.subtracting(offered)
            if !unknown.isEmpty { record(.protocolViolation("driver accepted features \(unknown) that were not offered (offered \(offered))")) }
            negotiated = wanted.intersection(offered)  // as QEMU: unknown bits are dropped
            featuresNegotiated()
        case (Legacy.queuePFN, 4):
            guard let q = selectedQueue else {
                record(.register("legacy queue PFN written for queue \(queueSelect), which does not exist"))
                return
            }
            queues[q].setLegacyAddress(pfn: value)
        case (Legacy.queueSelect, 2): queueSelect = UInt16(truncatingIfNeeded: value)
        case (Legacy.queueNotify, 2): notify(queue: Int(value))
        case (Legacy.deviceStatus, 1): writeStatus(UInt8(truncatingIfNeeded: value))
        default:
            if offset >= Legacy.deviceConfig { return }  // the MAC is not writable: no VIRTIO_NET_F_CTRL_MAC_ADDR
            record(.register("legacy BAR0: \(width)-byte write of 0x\(String(value, radix: 16)) at offset \(offset) matches no writable register"))
        }
    }
}
