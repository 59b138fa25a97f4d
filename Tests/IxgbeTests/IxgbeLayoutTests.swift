import Testing
import IntelNIC
@testable import Ixgbe
import UIO

/// Register offsets and bits against the 82599 datasheet (chapter 8) and `ixgbe_type.h`.
@Suite struct RegisterTableTests {
    static let offsets: [(Int, Int)] = [
        (IXGBE.CTRL, 0x00000), (IXGBE.STATUS, 0x00008), (IXGBE.CTRL_EXT, 0x00018),
        (IXGBE.EICR, 0x00800), (IXGBE.EIAC, 0x00810), (IXGBE.EIMS, 0x00880), (IXGBE.EIMC, 0x00888),
        (IXGBE.GPIE, 0x00898), (IXGBE.EITR(0), 0x00820), (IXGBE.EITR(23), 0x0087C), (IXGBE.EITR(24), 0x12300),
        (IXGBE.IVAR(0), 0x00900), (IXGBE.IVAR(1), 0x00904), (IXGBE.EEC, 0x10010),
        (IXGBE.RDRXCTL, 0x02F00), (IXGBE.RXCTRL, 0x03000), (IXGBE.RXPBSIZE(0), 0x03C00), (IXGBE.RXPBSIZE(7), 0x03C1C),
        (IXGBE.FCTRL, 0x05080), (IXGBE.HLREG0, 0x04240), (IXGBE.AUTOC, 0x042A0), (IXGBE.LINKS, 0x042A4),
        (IXGBE.SRRCTL(0), 0x02100), (IXGBE.SRRCTL(15), 0x0213C), (IXGBE.SRRCTL(16), 0x01414), (IXGBE.SRRCTL(64), 0x0D014),
        (IXGBE.DCA_RXCTRL(0), 0x02200), (IXGBE.DCA_RXCTRL(16), 0x0140C),
        (IXGBE.RDBAL(0), 0x01000), (IXGBE.RDBAH(0), 0x01004), (IXGBE.RDLEN(0), 0x01008), (IXGBE.RDH(0), 0x01010),
        (IXGBE.RDT(0), 0x01018), (IXGBE.RXDCTL(0), 0x01028), (IXGBE.RDBAL(1), 0x01040), (IXGBE.RDT(63), 0x01FD8),
        (IXGBE.RDBAL(64), 0x0D000), (IXGBE.RXDCTL(65), 0x0D068),
        (IXGBE.TDBAL(0), 0x06000), (IXGBE.TDBAH(0), 0x06004), (IXGBE.TDLEN(0), 0x06008), (IXGBE.TDH(0), 0x06010),
        (IXGBE.TDT(0), 0x06018), (IXGBE.TXDCTL(0), 0x06028), (IXGBE.TDT(1), 0x06058),
        (IXGBE.DMATXCTL, 0x04A80), (IXGBE.DTXMXSZRQ, 0x08100), (IXGBE.TXPBSIZE(0), 0x0CC00), (IXGBE.TXPBSIZE(1), 0x0CC04),
        (IXGBE.RTTDCS, 0x04900),
        (IXGBE.GPRC, 0x04074), (IXGBE.GPTC, 0x04080), (IXGBE.GORCL, 0x04088), (IXGBE.GORCH, 0x0408C),
        (IXGBE.GOTCL, 0x04090), (IXGBE.GOTCH, 0x04094), (IXGBE.MPC(0), 0x03FA0), (IXGBE.MPC(7), 0x03FBC),
        (IXGBE.RAL(0), 0x0A200), (IXGBE.RAH(0), 0x0A204), (IXGBE.RAL(1), 0x0A208),
        // Checked against Linux ixgbe_type.h for the stop, errata and counter fixes.
        (IXGBE.SECRXCTRL, 0x08D00), (IXGBE.SECRXSTAT, 0x08D04), (IXGBE.RXDCTL(127), 0x0DFE8), (IXGBE.TXDCTL(127), 0x07FE8),
        (IXGBE.QPRC(0), 0x01030), (IXGBE.QPRC(15), 0x013F0), (IXGBE.QBRC_L(0), 0x01034), (IXGBE.QBRC_H(0), 0x01038),
        (IXGBE.QBRC_L(15), 0x013F4), (IXGBE.QPRDC(0), 0x01430), (IXGBE.QPRDC(15), 0x017F0),
    ]

    @Test(arguments: offsets)
    func offsetMatchesTheDatasheet(offset: Int, expected: Int) {
        #expect(offset == expected, "0x\(String(offset, radix: 16)) != 0x\(String(expected, radix: 16))")
    }

    @Test func bitsMatchTheDatasheet() {
        #expect(IXGBE.CTRL_LNK_RST == 1 << 3)
        #expect(IXGBE.CTRL_RST == 1 << 26)
        #expect(IXGBE.CTRL_EXT_NS_DIS == 1 << 16)
        #expect(IXGBE.EEC_ARD == 1 << 9)
        #expect(IXGBE.RDRXCTL_DMAIDONE == 1 << 3)
        #expect(IXGBE.RDRXCTL_CRCSTRIP == 1 << 1)
        #expect(IXGBE.EICR_LSC == 1 << 20)
        #expect(IXGBE.IRQ_CLEAR_MASK == 0x7FFF_FFFF)
        #expect(IXGBE.GPIE_MSIX_MODE == 1 << 4)
        #expect(IXGBE.IVAR_ALLOC_VAL == 0x80)
        #expect(IXGBE.RXPBSIZE_128KB == 0x0002_0000)
        #expect(IXGBE.TXPBSIZE_40KB == 0x0000_A000)
        #expect(IXGBE.HLREG0_TXCRCEN == 1 << 0 && IXGBE.HLREG0_RXCRCSTRP == 1 << 1 && IXGBE.HLREG0_TXPADEN == 1 << 10)
        #expect(IXGBE.FCTRL_MPE == 1 << 8 && IXGBE.FCTRL_UPE == 1 << 9 && IXGBE.FCTRL_BAM == 1 << 10)
        #expect(IXGBE.SRRCTL_DESCTYPE_ADV_ONEBUF == 0x0200_0000 && IXGBE.SRRCTL_DROP_EN == 0x1000_0000)
        #expect(IXGBE.RXDCTL_ENABLE == 1 << 25 && IXGBE.TXDCTL_ENABLE == 1 << 25)
        #expect(IXGBE.AUTOC_LMS_MASK == 0xE000 && IXGBE.AUTOC_LMS_10G_SERIAL == 0x6000)
        #expect(IXGBE.AUTOC_10G_PMA_PMD_MASK == 0x180 && IXGBE.AUTOC_AN_RESTART == 1 << 12)
        #expect(IXGBE.LINKS_UP == 1 << 30)
        #expect(IXGBE.LINKS_SPEED_100_82599 == 0x1000_0000 && IXGBE.LINKS_SPEED_1G_82599 == 0x2000_0000
                && IXGBE.LINKS_SPEED_10G_82599 == 0x3000_0000)
        #expect(IXGBE.DMATXCTL_TE == 1 && IXGBE.RTTDCS_ARBDIS == 1 << 6)
        #expect(IXGBE.EITR_ITR_INT_MASK == 0xFF8 && IXGBE.EITR_CNT_WDIS == 1 << 31)
        #expect(IXGBE.CTRL_GIO_DIS == 1 << 2 && IXGBE.STATUS_GIO == 1 << 19)
        #expect(IXGBE.SECRXCTRL_RX_DIS == 1 << 1 && IXGBE.SECRXSTAT_SECRX_RDY == 1 << 0)
        #expect(IXGBE.RDRXCTL_RSCFRSTSIZE == 0x003E_0000 && IXGBE.RDRXCTL_RSCACKC == 1 << 25 && IXGBE.RDRXCTL_FCOE_WRFIX == 1 << 26)
        #expect(IXGBE.RXDCTL_SWFLSH == 1 << 26 && IXGBE.TXDCTL_SWFLSH == 1 << 26)
    }
}

/// Advanced descriptor layouts (82599 datasheet §7.1.6 and §7.2.3.2.4).
@Suite struct DescriptorLayoutTests {
    @Test func rxReadFormatHoldsTheBufferAddressAndClearsDD() {
        let d = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
        defer { d.deallocate() }
        d.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 16)
        AdvancedRXDescriptor.setRead(d, packetAddress: 0x1_2345_6780)
        #expect(d.load(as: UInt64.self) == 0x1_2345_6780)
        #expect(d.load(fromByteOffset: 8, as: UInt64.self) == 0)
        #expect(AdvancedRXDescriptor.statusError(d) & AdvancedRXDescriptor.STAT_DD == 0)
    }

    @Test func rxWriteBackDecodesDDEOPAndLength() {
        let d = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
        defer { d.deallocate() }
        d.initializeMemory(as: UInt8.self, repeating: 0, count: 16)
        // status_error at byte 8 (DD bit 0, EOP bit 1), length at byte 12.
        let bytes: [UInt8] = [0xAA, 0xBB, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x03, 0, 0, 0, 0xEA, 0x05, 0, 0]
        bytes.withUnsafeBytes { d.copyMemory(from: $0.baseAddress!, byteCount: 16) }
        let status = AdvancedRXDescriptor.statusError(d)
        #expect(status & AdvancedRXDescriptor.STAT_DD != 0)
        #expect(status & AdvancedRXDescriptor.STAT_EOP != 0)
        #expect(AdvancedRXDescriptor.length(d) == 1514)
        d.storeBytes(of: 0x01 as UInt8, toByteOffset: 8, as: UInt8.self)
        #expect(AdvancedRXDescriptor.statusError(d) & AdvancedRXDescriptor.STAT_EOP == 0)
    }

    @Test func txDataDescriptorEncoding() {
        #expect(AdvancedTXDescriptor.commandTypeLength(length: 60) == 0x2B30_003C)
        #expect(AdvancedTXDescriptor.offloadInfoStatus(length: 60) == 60 << 14)
        #expect(AdvancedTXDescriptor.offloadInfoStatus(length: 1514) == 0x017A_8000)
        let d = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
        defer { d.deallocate() }
        AdvancedTXDescriptor.setRead(d, bufferAddress: 0xABCD_E000, length: 1514)
        #expect(d.load(as: UInt64.self) == 0xABCD_E000)
        let cmd = d.load(fromByteOffset: 8, as: UInt32.self)
        #expect(cmd & 0xFFFF == 1514)
        #expect(cmd & 0x00F0_0000 == 0x0030_0000)  // DTYP advanced data
        #expect(cmd & 0xFF00_0000 == 0x2B00_0000)  // DEXT | RS | IFCS | EOP
        #expect(d.load(fromByteOffset: 12, as: UInt32.self) >> 14 == 1514)
        #expect(AdvancedTXDescriptor.status(d) & AdvancedTXDescriptor.STAT_DD == 0)
        d.storeBytes(of: 1 as UInt32, toByteOffset: 12, as: UInt32.self)
        #expect(AdvancedTXDescriptor.status(d) & AdvancedTXDescriptor.STAT_DD != 0)
    }
}

@Suite struct ConfigurationTests {
    @Test func theDefaultsAreValid() throws {
        try IxgbeConfiguration().validate()
    }

    @Test(arguments: [100, 0, 8192, 3000])
    func aRingSizeThatIsNotAPowerOfTwoUpTo4096IsRefused(size: Int) {
        let error = #expect(throws: UIOError.self) { try IxgbeConfiguration(ringSize: size).validate() }
        #expect(error == .invalidRingSize(size, maximum: 4096))
        #expect(error?.description.hasPrefix("ring size \(size) is not a power of two between 2 and 4096: use a power of two") == true)
    }

    @Test func aRingBelow64IsRefusedWithTheRange() {
        let error = #expect(throws: UIOError.self) { try IxgbeConfiguration(ringSize: 32).validate() }
        #expect(error?.description.contains("use a power of two from 64 to 4096") == true)
    }

    @Test func theMempoolMustFillTheRing() {
        let error = #expect(throws: UIOError.self) { try IxgbeConfiguration(ringSize: 1024, mempoolSize: 512).validate() }
        #expect(error?.description.contains("at least 1024 buffers") == true)
    }

    @Test func queueCountsAndThrottleAreBounded() {
        #expect(throws: UIOError.self) { try IxgbeConfiguration(rxQueues: 0).validate() }
        #expect(throws: UIOError.self) { try IxgbeConfiguration(txQueues: 65).validate() }
        #expect(throws: UIOError.self) { try IxgbeConfiguration(interruptThrottleMicroseconds: 2000).validate() }
    }
}

@Suite struct FamilyTests {
    @Test func theFamilySetsAreTheTablesRows() {
        #expect(IxgbeFamily.i82599DeviceIDs.union(IxgbeFamily.x540DeviceIDs) == Set(IxgbeDeviceIDs.supported.map(\.deviceID)))
        #expect(IxgbeFamily.i82599DeviceIDs.isDisjoint(with: IxgbeFamily.x540DeviceIDs))
        #expect(IxgbeFamily.sfpDeviceIDs.isSubset(of: IxgbeFamily.i82599DeviceIDs), "SFP+ link set-up is the 82599's")
        for row in IxgbeDeviceIDs.supported {
            #expect(IxgbeFamily(deviceID: row.deviceID) == row.family, "0x\(String(row.deviceID, radix: 16))")
        }
    }

    @Test func familiesByID() throws {
        #expect(IxgbeFamily(deviceID: 0x10FB) == .i82599)
        #expect(IxgbeFamily(deviceID: 0x1557) == .i82599)
        #expect(IxgbeFamily(deviceID: 0x1528) == .x540)
        #expect(IxgbeFamily(deviceID: 0x1560) == .x540)  // X540-T1
        #expect(IxgbeFamily(deviceID: 0x10B6) == nil)  // 82598: not supported
        #expect(try IxgbeFamily.require(vendor: 0x8086, device: 0x154D) == .i82599)
        #expect(throws: UIOError.unsupportedDevice(vendor: 0x8086, device: 0x10B6)) {
            try IxgbeFamily.require(vendor: 0x8086, device: 0x10B6)
        }
        #expect(throws: UIOError.unsupportedDevice(vendor: 0x1af4, device: 0x10FB)) {
            try IxgbeFamily.require(vendor: 0x1af4, device: 0x10FB)
        }
    }
}
