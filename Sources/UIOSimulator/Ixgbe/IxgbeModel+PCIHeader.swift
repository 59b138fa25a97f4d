extension IxgbeModel {
    /// The config-space identity of an 82599 port: Intel, the configured device ID, class
    /// 0x020000 (Ethernet), and BAR0 a 64-bit non-prefetchable memory BAR of registers.
    /// MSI, MSI-X and the flash/MSI-X BARs are left out: with uio_pci_generic only INTx is used.
    static func pciHeader(for configuration: Configuration) -> SimulatedPCIHeader {
        SimulatedPCIHeader(
            vendorID: IxgbeModelLayout.vendorID, deviceID: configuration.deviceID, revisionID: 1,
            classCode: (0x02, 0x00, 0x00), subsystemVendorID: IxgbeModelLayout.vendorID, subsystemID: 0x000C,
            bars: [SimulatedBAR(kind: .memory64(prefetchable: false), base: 0xfe80_0000, size: IxgbeModelLayout.realBARSize)])
    }
}
