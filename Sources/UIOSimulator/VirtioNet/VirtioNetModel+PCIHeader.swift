extension VirtioNetModel {
    typealias Modern = VirtioNetModelLayout.Modern

    /// The config-space identity QEMU gives virtio-net-pci (virtio 1.0 §4.1.2), without MSI-X.
    static func pciHeader(for configuration: Configuration) -> SimulatedPCIHeader {
        let ethernet: (base: UInt8, sub: UInt8, programmingInterface: UInt8) = (0x02, 0x00, 0x00)
        switch configuration.layout {
        case .legacy:
            // Subsystem ID = virtio device type (1, network) for legacy/transitional devices.
            return SimulatedPCIHeader(
                vendorID: VirtioNetModelLayout.vendorID, deviceID: VirtioNetModelLayout.legacyDeviceID, revisionID: 0,
                classCode: ethernet, subsystemVendorID: VirtioNetModelLayout.vendorID, subsystemID: 1,
                bars: [SimulatedBAR(kind: .ioPorts, base: 0xc040, size: VirtioNetModelLayout.Legacy.barSize)])
        case .modern:
            // Revision 1 and QEMU's subsystem ID 0x1100 mark a non-transitional device.
            var bars: [SimulatedBAR?] = Array(repeating: nil, count: 6)
            bars[Modern.bar] = SimulatedBAR(kind: .memory64(prefetchable: true), base: 0xfe00_0000, size: Modern.barSize)
            return SimulatedPCIHeader(
                vendorID: VirtioNetModelLayout.vendorID, deviceID: VirtioNetModelLayout.modernDeviceID, revisionID: 1,
                classCode: ethernet, subsystemVendorID: VirtioNetModelLayout.vendorID, subsystemID: 0x1100,
                bars: bars,
                capabilities: [
                    virtioCapability(type: Modern.capCommon, offset: Modern.commonOffset),
                    virtioCapability(type: Modern.capISR, offset: Modern.isrOffset),
                    virtioCapability(type: Modern.capDevice, offset: Modern.deviceOffset),
                    virtioCapability(type: Modern.capNotify, offset: Modern.notifyOffset, notifyOffMultiplier: Modern.notifyOffMultiplier),
                ])
        }
    }

    /// struct virtio_pci_cap (virtio 1.0 §4.1.4): cap_vndr, cap_next, cap_len, cfg_type, bar,
    /// padding[3], le32 offset, le32 length; the notify capability adds le32
    /// notify_off_multiplier. `body` is everything after cap_vndr and cap_next.
    static func virtioCapability(type: UInt8, offset: Int, notifyOffMultiplier: UInt32? = nil) -> SimulatedCapability {
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let length: UInt8 = notifyOffMultiplier == nil ? 16 : 20
        var body: [UInt8] = [length, type, UInt8(Modern.bar), 0, 0, 0]
        body += le32(UInt32(offset)) + le32(UInt32(Modern.regionSize))
        if let notifyOffMultiplier { body += le32(notifyOffMultiplier) }
        return SimulatedCapability(id: 0x09, body: body)
    }
}
