/// Registers, bits and descriptor formats of the Intel 82599 as the model implements them.
///
/// Offsets are bytes into BAR0. Names follow the datasheet (Intel 82599 10 GbE Controller
/// Datasheet, chapter 8, cited as §8.2.3.x) and Linux `ixgbe_type.h`, so that the model can
/// be held against either. Only what the model gives behaviour to is here.
// The datasheet's upper-case register names are kept on purpose.
// swiftlint:disable identifier_name
public enum IxgbeModelLayout {
    public static let vendorID: UInt16 = 0x8086
    /// 82599ES SFI/SFP+ (the "X520" ports), what ixy and most labs have.
    public static let deviceID82599SFP: UInt16 = 0x10FB
    /// The model decodes 128 KiB of BAR0 (the real BAR is 512 KiB; the rest reads 0).
    public static let barSize = 128 * 1024
    public static let realBARSize = 512 * 1024
    /// The 82599 has 128 RX and 128 TX queues (RX 64…127 in the second block at 0xD000).
    public static let maxQueues = 128
    /// Device IDs of SFP+ ports (Linux `ixgbe_get_media_type_82599`: media type fiber),
    /// whose link mode the driver sets to 10G serial (SFI).
    public static let sfpDeviceIDs: Set<UInt16> = [0x10FB, 0x1507, 0x1529, 0x154A, 0x154D, 0x1557]
    /// X540 (10GBASE-T, internal copper PHY): the link does not depend on AUTOC.
    public static let x540DeviceIDs: Set<UInt16> = [0x1528, 0x1560]

    // MARK: General (§8.2.3.1, §8.2.3.2)

    public static let CTRL = 0x00000
    /// PCIe Master Disable (bit 2, "GIO Master Disable"): the device stops issuing master
    /// requests; STATUS.GIO clears once none is pending (§5.2.5.3.2).
    public static let CTRL_GIO_DIS: UInt32 = 1 << 2
    public static let CTRL_LNK_RST: UInt32 = 1 << 3
    public static let CTRL_RST: UInt32 = 1 << 26
    public static let CTRL_RST_MASK: UInt32 = CTRL_LNK_RST | CTRL_RST
    public static let STATUS = 0x00008
    /// LAN ID, bits 3:2 (function 0 here).
    public static let STATUS_LAN_ID: UInt32 = 0x3 << 2
    /// Link up indication (bit 7).
    public static let STATUS_LINK_UP: UInt32 = 1 << 7
    /// GIO Master Enable Status (bit 19): set while PCIe master requests are allowed.
    public static let STATUS_GIO: UInt32 = 1 << 19
    public static let CTRL_EXT = 0x00018
    public static let CTRL_EXT_NS_DIS: UInt32 = 1 << 16
    public static let EEC = 0x10010
    /// EEPROM present (bit 8) and Auto Read Done (bit 9).
    public static let EEC_PRES: UInt32 = 1 << 8
    public static let EEC_ARD: UInt32 = 1 << 9

    // MARK: Interrupts (§8.2.3.5)

    public static let EICR = 0x00800
    public static let EICS = 0x00808
    public static let EIAC = 0x00810
    public static let EIMS = 0x00880
    public static let EIMC = 0x00888
    public static let EIAM = 0x00890
    public static let GPIE = 0x00898
    public static let GPIE_MSIX_MODE: UInt32 = 1 << 4
    /// Other Clear Disable: in MSI-X mode, EICR "other" bits are not cleared by a read.
    public static let GPIE_OCD: UInt32 = 1 << 5
    public static let GPIE_EIAME: UInt32 = 1 << 30
    /// Bits 15:0 are the RX/TX queue causes, mapped from queues by IVAR.
    public static let EICR_RTX_QUEUE: UInt32 = 0xFFFF
    /// Link Status Change (bit 20).
    public static let EICR_LSC: UInt32 = 1 << 20
    /// Bit 31 is reserved; every other cause is maskable.
    public static let EICR_CAUSES: UInt32 = 0x7FFF_FFFF
    /// EITR 0…23 at 0x820, 24…127 at 0x12300 (§8.2.3.5.12).
    public static func EITR(_ n: Int) -> Int { n <= 23 ? 0x00820 + 4 * n : 0x12300 + 4 * (n - 24) }
    /// ITR_INTERVAL, bits 11:3, in units of 2 µs.
    public static let EITR_ITR_INTERVAL_MASK: UInt32 = 0x0FF8
    public static let EITR_ITR_INTERVAL_SHIFT: UInt32 = 3
    public static let EITR_INTERVAL_UNIT: Duration = .microseconds(2)
    public static let EITR_CNT_WDIS: UInt32 = 1 << 31
    /// IVAR(n) holds RX 2n (bits 7:0), TX 2n (15:8), RX 2n+1 (23:16), TX 2n+1 (31:24).
    public static func IVAR(_ n: Int) -> Int { 0x00900 + 4 * n }
    public static let IVAR_COUNT = 64
    public static let IVAR_MISC = 0x00A00
    public static let IVAR_ALLOC_VAL: UInt32 = 0x80
    /// INT_Alloc, the vector (cause) number, bits 5:0 of an entry.
    public static let IVAR_VECTOR_MASK: UInt32 = 0x3F

    // MARK: Receive (§8.2.3.8, §8.2.3.7)

    /// Queues 0…63 live at 0x1000 + 0x40n; 64…127 at 0xD000 + 0x40(n-64).
    public static func RDBAL(_ n: Int) -> Int { n < 64 ? 0x01000 + 0x40 * n : 0x0D000 + 0x40 * (n - 64) }
    public static func RDBAH(_ n: Int) -> Int { RDBAL(n) + 0x04 }
    public static func RDLEN(_ n: Int) -> Int { RDBAL(n) + 0x08 }
    public static func DCA_RXCTRL(_ n: Int) -> Int { RDBAL(n) + 0x0C }
    public static func RDH(_ n: Int) -> Int { RDBAL(n) + 0x10 }
    public static func SRRCTL(_ n: Int) -> Int { RDBAL(n) + 0x14 }
    public static func RDT(_ n: Int) -> Int { RDBAL(n) + 0x18 }
    public static func RXDCTL(_ n: Int) -> Int { RDBAL(n) + 0x28 }
    /// Queues 0…15 also answer at these older addresses (82598 compatibility, §8.2.3.8.7).
    public static func SRRCTL_ALIAS(_ n: Int) -> Int { 0x02100 + 4 * n }
    public static func DCA_RXCTRL_ALIAS(_ n: Int) -> Int { 0x02200 + 4 * n }
    public static let RXDCTL_ENABLE: UInt32 = 1 << 25
    /// Descriptor write-back flush (bit 26), written with ENABLE clear to stop a queue.
    public static let RXDCTL_SWFLSH: UInt32 = 1 << 26
    public static let SRRCTL_BSIZEPACKET_MASK: UInt32 = 0x1F
    public static let SRRCTL_BSIZEPACKET_UNIT = 1024
    public static let SRRCTL_DESCTYPE_MASK: UInt32 = 0x7 << 25
    public static let SRRCTL_DESCTYPE_ADV_ONEBUF: UInt32 = 0x1 << 25
    public static let SRRCTL_DROP_EN: UInt32 = 1 << 28
    /// Reset value: 2 KiB packet buffers, 256-byte header buffers, legacy descriptors.
    public static let SRRCTL_DEFAULT: UInt32 = 0x0000_0402
    /// Reset value: bit 12 is reserved and resets to 1 (§8.2.3.11.1).
    public static let DCA_RXCTRL_DEFAULT: UInt32 = 1 << 12
    public static let RDRXCTL = 0x02F00
    public static let RDRXCTL_CRCSTRIP: UInt32 = 1 << 1
    public static let RDRXCTL_DMAIDONE: UInt32 = 1 << 3
    /// RSC first packet size, bits 21:17: resets to 0x8, software must write 0 (§8.2.3.8.8).
    public static let RDRXCTL_RSCFRSTSIZE: UInt32 = 0x1F << 17
    public static let RDRXCTL_RSCFRSTSIZE_DEFAULT: UInt32 = 0x8 << 17
    /// RSC ACK coalescing (bit 25) and FCoE write fix (bit 26): reset to 0, software must
    /// set both (§8.2.3.8.8; Linux `ixgbe_setup_rdrxctl`).
    public static let RDRXCTL_RSCACKC: UInt32 = 1 << 25
    public static let RDRXCTL_FCOE_WRFIX: UInt32 = 1 << 26
    public static let RXCTRL = 0x03000
    public static let RXCTRL_RXEN: UInt32 = 1 << 0
    public static func RXPBSIZE(_ n: Int) -> Int { 0x03C00 + 4 * n }
    public static let FCTRL = 0x05080
    public static let FCTRL_MPE: UInt32 = 1 << 8
    public static let FCTRL_UPE: UInt32 = 1 << 9
    public static let FCTRL_BAM: UInt32 = 1 << 10
    /// Multiple Receive Queues Command (§8.2.3.7.12): MRQE (bits 3:0) 0001b is RSS; bits
    /// 16 (TCP/IPv4), 17 (IPv4) and 22 (UDP/IPv4) say what RSS hashes.
    public static let MRQC = 0x05818
    public static let MRQC_MRQE_MASK: UInt32 = 0xF
    public static let MRQC_MRQE_RSS: UInt32 = 0x1
    public static let MRQC_TCPIPV4: UInt32 = 1 << 16
    public static let MRQC_IPV4: UInt32 = 1 << 17
    public static let MRQC_UDPIPV4: UInt32 = 1 << 22
    /// RSS Random Key, 40 bytes in 10 registers, byte 0 in RSSRK[0] bits 7:0 (§8.2.3.7.14).
    public static func RSSRK(_ n: Int) -> Int { 0x05C80 + 4 * n }
    /// Redirection Table, 128 byte entries in 32 registers; queue in bits 3:0 (§8.2.3.7.13).
    public static func RETA(_ n: Int) -> Int { 0x05C00 + 4 * n }
    /// The receive address table, 128 entries (§8.2.3.7.9–10).
    public static func RAL(_ n: Int) -> Int { 0x0A200 + 8 * n }
    public static func RAH(_ n: Int) -> Int { 0x0A204 + 8 * n }
    public static let RAR_ENTRIES = 128
    public static let RAH_AV: UInt32 = 1 << 31
    /// RX queue → statistics counter map, four queues a register (§8.2.3.23.71).
    public static func RQSMR(_ n: Int) -> Int { 0x02300 + 4 * n }

    // MARK: MAC (§8.2.3.22)

    public static let HLREG0 = 0x04240
    public static let HLREG0_TXCRCEN: UInt32 = 1 << 0
    public static let HLREG0_RXCRCSTRP: UInt32 = 1 << 1
    public static let HLREG0_JUMBOEN: UInt32 = 1 << 2
    public static let HLREG0_TXPADEN: UInt32 = 1 << 10
    /// At reset CRC insertion, CRC stripping and padding are on, jumbo frames off (the
    /// reserved bits are not modelled).
    public static let HLREG0_DEFAULT: UInt32 = HLREG0_TXCRCEN | HLREG0_RXCRCSTRP | HLREG0_TXPADEN
    public static let AUTOC = 0x042A0
    public static let AUTOC_AN_RESTART: UInt32 = 1 << 12
    /// Link Mode Select, bits 15:13 (AUTOC, §8.2.3.22): 001b 10G parallel (XAUI/CX4/KX4 without
    /// AN), 011b 10G serial (SFI), 100b KX4/KX/KR backplane auto-negotiation.
    public static let AUTOC_LMS_MASK: UInt32 = 0x7 << 13
    public static let AUTOC_LMS_1G_AN: UInt32 = 0x2 << 13
    public static let AUTOC_LMS_10G_LINK_NO_AN: UInt32 = 0x1 << 13
    public static let AUTOC_LMS_10G_SERIAL: UInt32 = 0x3 << 13
    public static let AUTOC_LMS_KX4_KX_KR: UInt32 = 0x4 << 13
    /// 10G PMA/PMD for the parallel modes, bits 8:7: 00b XAUI, 01b KX4, 10b CX4.
    public static let AUTOC_10G_PMA_PMD_MASK: UInt32 = 0x3 << 7
    public static let AUTOC_10G_KX4: UInt32 = 0x1 << 7
    public static let AUTOC_10G_CX4: UInt32 = 0x2 << 7
    /// KR support (bit 31) for the KX4/KX/KR mode.
    public static let AUTOC_KR_SUPP: UInt32 = 1 << 31
    public static let LINKS = 0x042A4
    public static let LINKS_UP: UInt32 = 1 << 30
    public static let LINKS_SPEED_MASK: UInt32 = 0x3 << 28
    public static let LINKS_SPEED_10G: UInt32 = 0x3 << 28

    /// AUTOC as the EEPROM of each kind of board loads it: 10G serial for SFP+ ports (Linux
    /// still sets LMS to 10G serial for them, `ixgbe_setup_sfp_modules_82599`), KX4/KX/KR
    /// auto-negotiation on backplanes (with KR on the KR part), 10G parallel with the CX4 or
    /// XAUI PMA on those parts, nothing for the X540's copper PHY.
    public static func eepromAUTOC(deviceID: UInt16) -> UInt32 {
        switch deviceID {
        case _ where sfpDeviceIDs.contains(deviceID): return AUTOC_LMS_10G_SERIAL
        case 0x1517: return AUTOC_LMS_KX4_KX_KR | AUTOC_10G_KX4 | AUTOC_KR_SUPP   // KR
        case 0x10F7, 0x1514, 0x10F8: return AUTOC_LMS_KX4_KX_KR | AUTOC_10G_KX4  // KX4, mezzanine, combo
        case 0x10F9: return AUTOC_LMS_10G_LINK_NO_AN | AUTOC_10G_CX4              // CX4
        case 0x10FC: return AUTOC_LMS_10G_LINK_NO_AN                              // XAUI LOM
        default: return 0
        }
    }

    // MARK: Transmit (§8.2.3.9)

    public static func TDBAL(_ n: Int) -> Int { 0x06000 + 0x40 * n }
    public static func TDBAH(_ n: Int) -> Int { TDBAL(n) + 0x04 }
    public static func TDLEN(_ n: Int) -> Int { TDBAL(n) + 0x08 }
    public static func TDH(_ n: Int) -> Int { TDBAL(n) + 0x10 }
    public static func TDT(_ n: Int) -> Int { TDBAL(n) + 0x18 }
    public static func TXDCTL(_ n: Int) -> Int { TDBAL(n) + 0x28 }
    public static let TXDCTL_ENABLE: UInt32 = 1 << 25
    public static let TXDCTL_SWFLSH: UInt32 = 1 << 26
    public static let DMATXCTL = 0x04A80
    public static let DMATXCTL_TE: UInt32 = 1 << 0
    public static let RTTDCS = 0x04900
    public static let DTXMXSZRQ = 0x08100

    // MARK: Security block: the RX path the 82599 errata sequence disables

    public static let SECRXCTRL = 0x08D00
    /// Disable the security RX path (bit 1): receive data stop at the security block.
    public static let SECRXCTRL_RX_DIS: UInt32 = 1 << 1
    public static let SECRXSTAT = 0x08D04
    /// The security RX path is empty and stopped (bit 0).
    public static let SECRXSTAT_SECRX_RDY: UInt32 = 1 << 0
    public static func TXPBSIZE(_ n: Int) -> Int { 0x0CC00 + 4 * n }
    /// TX queue → statistics counter map, four queues a register (§8.2.3.23.73).
    public static func TQSM(_ n: Int) -> Int { 0x08600 + 4 * n }

    // MARK: Statistics (§8.2.3.23), read-to-clear

    public static let GPRC = 0x04074
    public static let GPTC = 0x04080
    /// 36-bit octet counters: read the low half first; reading the high half clears them.
    public static let GORCL = 0x04088
    public static let GORCH = 0x0408C
    public static let GOTCL = 0x04090
    public static let GOTCH = 0x04094
    public static let ROC = 0x040AC
    public static func MPC(_ n: Int) -> Int { 0x03FA0 + 4 * n }
    public static func QPRC(_ n: Int) -> Int { 0x01030 + 0x40 * n }
    /// Queue bytes received, 36 bits in two registers (§8.2.3.23).
    public static func QBRC_L(_ n: Int) -> Int { 0x01034 + 0x40 * n }
    public static func QBRC_H(_ n: Int) -> Int { 0x01038 + 0x40 * n }
    /// Queue packets received drop count (§8.2.3.23): frames SRRCTL.DROP_EN dropped.
    public static func QPRDC(_ n: Int) -> Int { 0x01430 + 0x40 * n }
    public static func QPTC(_ n: Int) -> Int { 0x06030 + 0x40 * n }
    public static let QUEUE_STAT_COUNTERS = 16
    public static let PACKET_BUFFERS = 8

    // MARK: Descriptors (§7.1.6, §7.2.3.2.4)

    public static let descriptorSize = 16
    /// Advanced RX write-back: status_error at byte 8, length at byte 12.
    public static let RXD_STATUS_OFFSET = 8
    public static let RXD_LENGTH_OFFSET = 12
    public static let RXD_STAT_DD: UInt32 = 1 << 0
    public static let RXD_STAT_EOP: UInt32 = 1 << 1
    /// Advanced TX read format: cmd_type_len at byte 8, olinfo_status at byte 12.
    public static let TXD_CMD_TYPE_LEN_OFFSET = 8
    public static let TXD_OLINFO_OFFSET = 12
    public static let TXD_DTALEN_MASK: UInt32 = 0xFFFF
    public static let TXD_DTYP_MASK: UInt32 = 0xF << 20
    public static let TXD_DTYP_CTXT: UInt32 = 0x2 << 20
    public static let TXD_DTYP_DATA: UInt32 = 0x3 << 20
    public static let TXD_DCMD_EOP: UInt32 = 1 << 24
    public static let TXD_DCMD_IFCS: UInt32 = 1 << 25
    public static let TXD_DCMD_RS: UInt32 = 1 << 27
    public static let TXD_DCMD_DEXT: UInt32 = 1 << 29
    public static let TXD_PAYLEN_SHIFT: UInt32 = 14
    /// Write-back: DD in the status (upper dword, byte 12).
    public static let TXD_STATUS_OFFSET = 12
    public static let TXD_STAT_DD: UInt32 = 1 << 0

    // MARK: Ethernet

    /// Without HLREG0.JUMBOEN the longest frame is 1522 bytes with a VLAN tag and the FCS,
    /// so 1518 as the model sees frames (without FCS).
    public static let maxStandardFrame = 1518
    /// Short frames are padded to 60 bytes (64 with FCS) when HLREG0.TXPADEN is set.
    public static let minFrame = 60
    public static let fcsSize = 4
}
// swiftlint:enable identifier_name
