/// Registers and bits of the Intel 82599 (and X540), named as the datasheet names them.
///
/// Offsets are bytes into BAR0. Sources: Intel 82599 10 GbE Controller Datasheet, chapter 8
/// (register descriptions, cited as §8.2.3.x), checked against Linux `ixgbe_type.h`.
/// Per-queue registers take the queue number; queues 0…63 use the first register block.
// The datasheet's upper-case names are kept so the code can be read against the manual.
// swiftlint:disable identifier_name
public enum IXGBE {
    // MARK: General control (§8.2.3.1)

    /// Device Control.
    public static let CTRL = 0x00000
    /// PCIe master disable ("GIO Master Disable", bit 2): the device issues no new master
    /// requests; STATUS.GIO clears once none is pending (§5.2.5.3.2).
    public static let CTRL_GIO_DIS: UInt32 = 0x0000_0004
    /// Link reset: resets the MAC-PHY link (§8.2.3.1.1, bit 3).
    public static let CTRL_LNK_RST: UInt32 = 0x0000_0008
    /// Device reset: a global reset of the whole port, self-clearing (§8.2.3.1.1, bit 26).
    public static let CTRL_RST: UInt32 = 0x0400_0000
    public static let CTRL_RST_MASK: UInt32 = CTRL_LNK_RST | CTRL_RST
    /// Device Status.
    public static let STATUS = 0x00008
    /// GIO Master Enable Status (§8.2.3.1.2, bit 19): master requests may still be issued.
    public static let STATUS_GIO: UInt32 = 0x0008_0000
    /// Extended Device Control.
    public static let CTRL_EXT = 0x00018
    /// No Snoop Disable (§8.2.3.1.3, bit 16).
    public static let CTRL_EXT_NS_DIS: UInt32 = 0x0001_0000

    // MARK: EEPROM (§8.2.3.2)

    /// EEPROM/Flash Control.
    public static let EEC = 0x10010
    /// EEPROM Auto Read Done (bit 9).
    public static let EEC_ARD: UInt32 = 0x0000_0200

    // MARK: Interrupts (§8.2.3.5)

    /// Extended Interrupt Cause: read-to-clear when GPIE is not in MSI-X mode (§8.2.3.5.1).
    public static let EICR = 0x00800
    /// Extended Interrupt Cause Set.
    public static let EICS = 0x00808
    /// Extended Interrupt Auto Clear (MSI-X only).
    public static let EIAC = 0x00810
    /// Extended Interrupt Mask Set/Read: writing 1 enables a cause.
    public static let EIMS = 0x00880
    /// Extended Interrupt Mask Clear: writing 1 masks a cause.
    public static let EIMC = 0x00888
    /// Extended Interrupt Auto Mask Enable.
    public static let EIAM = 0x00890
    /// General Purpose Interrupt Enable.
    public static let GPIE = 0x00898
    public static let GPIE_MSIX_MODE: UInt32 = 0x0000_0010
    public static let GPIE_OCD: UInt32 = 0x0000_0020
    public static let GPIE_EIAME: UInt32 = 0x4000_0000
    public static let GPIE_PBA_SUPPORT: UInt32 = 0x8000_0000
    /// Every cause but the reserved bit 31: what §4.6.3.1 writes to EIMC to mask all.
    public static let IRQ_CLEAR_MASK: UInt32 = 0x7FFF_FFFF
    /// EICR bits 15:0: the RX/TX queue causes (mapped from queues through IVAR).
    public static let EICR_RTX_QUEUE: UInt32 = 0x0000_FFFF
    /// EICR bit 20: Link Status Change.
    public static let EICR_LSC: UInt32 = 0x0010_0000

    /// Extended Interrupt Throttle (§8.2.3.5.12): 0…23 at 0x820, 24…127 at 0x12300.
    @inlinable public static func EITR(_ n: Int) -> Int { n <= 23 ? 0x00820 + 4 * n : 0x12300 + 4 * (n - 24) }
    /// ITR_INTERVAL, bits 11:3, in 2 µs units.
    public static let EITR_ITR_INT_MASK: UInt32 = 0x0000_0FF8
    /// Counter write disable: writing the interval does not restart the counter (bit 31).
    public static let EITR_CNT_WDIS: UInt32 = 0x8000_0000

    /// Interrupt Vector Allocation (§8.2.3.5.14): IVAR(n) holds queues 2n and 2n+1:
    /// bits 7:0 RX 2n, 15:8 TX 2n, 23:16 RX 2n+1, 31:24 TX 2n+1.
    @inlinable public static func IVAR(_ n: Int) -> Int { 0x00900 + 4 * n }
    /// Entry valid (bit 7 of each IVAR byte).
    public static let IVAR_ALLOC_VAL: UInt32 = 0x80
    public static let IVAR_MISC = 0x00A00

    // MARK: Receive (§8.2.3.8)

    /// Receive Descriptor Base Address Low.
    @inlinable public static func RDBAL(_ n: Int) -> Int { n < 64 ? 0x01000 + 0x40 * n : 0x0D000 + 0x40 * (n - 64) }
    @inlinable public static func RDBAH(_ n: Int) -> Int { RDBAL(n) + 0x04 }
    /// Receive Descriptor Length in bytes (a multiple of 128).
    @inlinable public static func RDLEN(_ n: Int) -> Int { RDBAL(n) + 0x08 }
    @inlinable public static func RDH(_ n: Int) -> Int { RDBAL(n) + 0x10 }
    @inlinable public static func RDT(_ n: Int) -> Int { RDBAL(n) + 0x18 }
    /// Receive Descriptor Control.
    @inlinable public static func RXDCTL(_ n: Int) -> Int { RDBAL(n) + 0x28 }
    public static let RXDCTL_ENABLE: UInt32 = 0x0200_0000
    /// Descriptor write-back flush (bit 26), set with ENABLE cleared to stop a queue.
    public static let RXDCTL_SWFLSH: UInt32 = 0x0400_0000
    /// Queues in the device (RX 64…127 in the second register block), all of which the stop
    /// sequence turns off: a previous owner may have used any of them.
    public static let hardwareQueues = 128

    /// Split and Replication Receive Control: 0…15 at 0x2100, then in the queue block.
    @inlinable public static func SRRCTL(_ n: Int) -> Int {
        n <= 15 ? 0x02100 + 4 * n : (n < 64 ? 0x01014 + 0x40 * n : 0x0D014 + 0x40 * (n - 64))
    }
    /// BSIZEPACKET, bits 4:0, in 1 KB units.
    public static let SRRCTL_BSIZEPKT_MASK: UInt32 = 0x0000_007F
    public static let SRRCTL_BSIZEPKT_SHIFT = 10
    public static let SRRCTL_DESCTYPE_MASK: UInt32 = 0x0E00_0000
    /// Advanced descriptor, one buffer.
    public static let SRRCTL_DESCTYPE_ADV_ONEBUF: UInt32 = 0x0200_0000
    /// Drop packets when the queue has no descriptor, rather than fill the shared buffer.
    public static let SRRCTL_DROP_EN: UInt32 = 0x1000_0000

    /// Rx DCA Control: 0…15 at 0x2200, then in the queue block.
    @inlinable public static func DCA_RXCTRL(_ n: Int) -> Int {
        n <= 15 ? 0x02200 + 4 * n : (n < 64 ? 0x0100C + 0x40 * n : 0x0D00C + 0x40 * (n - 64))
    }
    /// Bit 12 is reserved and resets to 1, but §8.2.3.11.1 says software must clear it.
    public static let DCA_RXCTRL_RESERVED_BIT12: UInt32 = 1 << 12

    /// Receive DMA Control.
    public static let RDRXCTL = 0x02F00
    public static let RDRXCTL_CRCSTRIP: UInt32 = 0x0000_0002
    /// DMA init cycle done (bit 3).
    public static let RDRXCTL_DMAIDONE: UInt32 = 0x0000_0008
    /// RSC first packet size, bits 21:17: resets to 0x8; §8.2.3.8.8 asks software for 0.
    public static let RDRXCTL_RSCFRSTSIZE: UInt32 = 0x003E_0000
    /// RSC ACK coalescing (bit 25) and FCoE write fix (bit 26): reset to 0, and §8.2.3.8.8
    /// asks software to set both (Linux `ixgbe_setup_rdrxctl` does for the 82599 and X540).
    public static let RDRXCTL_RSCACKC: UInt32 = 0x0200_0000
    public static let RDRXCTL_FCOE_WRFIX: UInt32 = 0x0400_0000

    /// Receive Control.
    public static let RXCTRL = 0x03000
    public static let RXCTRL_RXEN: UInt32 = 0x0000_0001

    /// Receive Packet Buffer Size, 8 of them, size in KB at bits 19:10.
    @inlinable public static func RXPBSIZE(_ n: Int) -> Int { 0x03C00 + 4 * n }
    public static let RXPBSIZE_128KB: UInt32 = 128 << 10

    /// Filter Control.
    public static let FCTRL = 0x05080
    /// Multicast Promiscuous Enable (bit 8).
    public static let FCTRL_MPE: UInt32 = 0x0000_0100
    /// Unicast Promiscuous Enable (bit 9).
    public static let FCTRL_UPE: UInt32 = 0x0000_0200
    /// Broadcast Accept Mode (bit 10).
    public static let FCTRL_BAM: UInt32 = 0x0000_0400

    /// Receive Checksum Control (§8.2.3.7.5). PCSD (bit 13): the write-back carries the RSS
    /// hash instead of the fragment checksum, as Linux sets it whenever RSS is on.
    public static let RXCSUM = 0x05000
    public static let RXCSUM_PCSD: UInt32 = 0x0000_2000
    /// Multiple Receive Queues Command (§8.2.3.7.12): MRQE in bits 3:0 (0001b: RSS only),
    /// and the fields RSS hashes in bits 31:16.
    public static let MRQC = 0x05818
    public static let MRQC_RSSEN: UInt32 = 0x0000_0001
    public static let MRQC_RSS_FIELD_IPV4_TCP: UInt32 = 0x0001_0000
    public static let MRQC_RSS_FIELD_IPV4: UInt32 = 0x0002_0000
    public static let MRQC_RSS_FIELD_IPV4_UDP: UInt32 = 0x0040_0000
    /// RSS Random Key (§8.2.3.7.14): 10 registers, key byte 4n in bits 7:0 of RSSRK[n].
    @inlinable public static func RSSRK(_ n: Int) -> Int { 0x05C80 + 4 * n }
    public static let RSSRK_COUNT = 10
    /// Redirection Table (§8.2.3.7.13): 32 registers of four 8-bit entries; the 128 entries
    /// are indexed by the hash's 7 low bits and give the queue in bits 3:0.
    @inlinable public static func RETA(_ n: Int) -> Int { 0x05C00 + 4 * n }
    public static let RETA_ENTRIES = 128

    /// Receive Address Low/High (§8.2.3.7.9, 8.2.3.7.10): the 82599's own table at 0xA200.
    @inlinable public static func RAL(_ n: Int) -> Int { 0x0A200 + 8 * n }
    @inlinable public static func RAH(_ n: Int) -> Int { 0x0A204 + 8 * n }
    /// Address Valid (RAH bit 31).
    public static let RAH_AV: UInt32 = 0x8000_0000

    // MARK: MAC (§8.2.3.22)

    /// MAC Core Control 0.
    public static let HLREG0 = 0x04240
    /// TX CRC Enable (bit 0).
    public static let HLREG0_TXCRCEN: UInt32 = 0x0000_0001
    /// RX CRC Strip (bit 1).
    public static let HLREG0_RXCRCSTRP: UInt32 = 0x0000_0002
    public static let HLREG0_JUMBOEN: UInt32 = 0x0000_0004
    /// TX Pad Frame Enable: pads short frames to 64 bytes (bit 10).
    public static let HLREG0_TXPADEN: UInt32 = 0x0000_0400

    /// Auto-Negotiation Control.
    public static let AUTOC = 0x042A0
    public static let AUTOC_LMS_SHIFT = 13
    /// Link Mode Select, bits 15:13.
    public static let AUTOC_LMS_MASK: UInt32 = 0x7 << 13
    public static let AUTOC_LMS_10G_SERIAL: UInt32 = 0x3 << 13
    public static let AUTOC_LMS_1G_AN: UInt32 = 0x2 << 13
    /// 10G PMA/PMD for parallel interfaces, bits 8:7.
    public static let AUTOC_10G_PMA_PMD_MASK: UInt32 = 0x0000_0180
    public static let AUTOC_10G_XAUI: UInt32 = 0x0 << 7
    /// Restart Auto-Negotiation (bit 12, self-clearing).
    public static let AUTOC_AN_RESTART: UInt32 = 0x0000_1000

    /// Link Status.
    public static let LINKS = 0x042A4
    /// Link Up (bit 30).
    public static let LINKS_UP: UInt32 = 0x4000_0000
    /// Link speed, bits 29:28.
    public static let LINKS_SPEED_82599: UInt32 = 0x3000_0000
    public static let LINKS_SPEED_100_82599: UInt32 = 0x1000_0000
    public static let LINKS_SPEED_1G_82599: UInt32 = 0x2000_0000
    public static let LINKS_SPEED_10G_82599: UInt32 = 0x3000_0000

    // MARK: Transmit (§8.2.3.9)

    /// Transmit Descriptor Base Address Low.
    @inlinable public static func TDBAL(_ n: Int) -> Int { 0x06000 + 0x40 * n }
    @inlinable public static func TDBAH(_ n: Int) -> Int { TDBAL(n) + 0x04 }
    @inlinable public static func TDLEN(_ n: Int) -> Int { TDBAL(n) + 0x08 }
    @inlinable public static func TDH(_ n: Int) -> Int { TDBAL(n) + 0x10 }
    @inlinable public static func TDT(_ n: Int) -> Int { TDBAL(n) + 0x18 }
    /// Transmit Descriptor Control.
    @inlinable public static func TXDCTL(_ n: Int) -> Int { TDBAL(n) + 0x28 }
    public static let TXDCTL_ENABLE: UInt32 = 0x0200_0000
    /// Descriptor write-back flush (bit 26): written alone, it stops the queue and flushes.
    public static let TXDCTL_SWFLSH: UInt32 = 0x0400_0000
    /// PTHRESH bits 6:0, HTHRESH 14:8, WTHRESH 22:16.
    public static let TXDCTL_THRESHOLD_MASK: UInt32 = 0x7F | 0x7F << 8 | 0x7F << 16

    /// DMA Tx Control.
    public static let DMATXCTL = 0x04A80
    /// Transmit Enable (bit 0).
    public static let DMATXCTL_TE: UInt32 = 0x0000_0001
    // MARK: Security block (SECRX registers, offsets as in Linux ixgbe_type.h)

    /// Security Rx Control: RX_DIS (bit 1) stops the security RX data path.
    public static let SECRXCTRL = 0x08D00
    public static let SECRXCTRL_RX_DIS: UInt32 = 0x0000_0002
    /// Security Rx Status: SECRX_RDY (bit 0), the path is stopped and empty.
    public static let SECRXSTAT = 0x08D04
    public static let SECRXSTAT_SECRX_RDY: UInt32 = 0x0000_0001

    /// DMA Tx TCP Max Allow Size Requests: MAX_BYTES_NUM_REQ, bits 11:0.
    public static let DTXMXSZRQ = 0x08100
    public static let DTXMXSZRQ_MAX: UInt32 = 0x0000_0FFF
    /// Transmit Packet Buffer Size, 8 of them, size in KB at bits 19:10.
    @inlinable public static func TXPBSIZE(_ n: Int) -> Int { 0x0CC00 + 4 * n }
    public static let TXPBSIZE_40KB: UInt32 = 40 << 10
    /// DCB Transmit Descriptor Plane Control and Status.
    public static let RTTDCS = 0x04900
    /// Descriptor plane arbiter disable (bit 6).
    public static let RTTDCS_ARBDIS: UInt32 = 0x0000_0040

    // MARK: Statistics (§8.2.3.23), all read-to-clear

    /// Good Packets Received Count.
    public static let GPRC = 0x04074
    /// Good Packets Transmitted Count.
    public static let GPTC = 0x04080
    /// Good Octets Received Count, low 32 bits then high 4 (read low first). Without the CRC
    /// when HLREG0.RXCRCSTRP strips it (DPDK's ixgbe PMD relies on this).
    public static let GORCL = 0x04088
    public static let GORCH = 0x0408C
    /// Good Octets Transmitted Count: from the destination address through the CRC.
    public static let GOTCL = 0x04090
    public static let GOTCH = 0x04094
    /// The Ethernet FCS (CRC-32) that GOTC counts with every frame.
    public static let fcsSize: UInt64 = 4
    /// Receive Oversize Count: frames longer than MAXFRS (1518 bytes with FCS, 1522 with a
    /// VLAN tag) while HLREG0.JUMBOEN is off; the device discards them (Linux: IXGBE_ROC).
    public static let ROC = 0x040AC
    /// Missed Packets Count, one per packet buffer (0…7): frames for which the packet buffer
    /// had no room (§8.2.3.23).
    @inlinable public static func MPC(_ n: Int) -> Int { 0x03FA0 + 4 * n }
    /// The 16 per-queue statistics counters; RQSMR maps queues to them (all to 0 at reset).
    public static let queueStatCounters = 16
    /// Queue Packets Received Count: frames written to host memory.
    @inlinable public static func QPRC(_ n: Int) -> Int { 0x01030 + 0x40 * n }
    /// Queue Bytes Received Count, 36 bits, low then high (CRC as for GORC).
    @inlinable public static func QBRC_L(_ n: Int) -> Int { 0x01034 + 0x40 * n }
    @inlinable public static func QBRC_H(_ n: Int) -> Int { 0x01038 + 0x40 * n }
    /// Queue Packets Received Drop Count: frames a queue with SRRCTL.DROP_EN dropped for
    /// lack of descriptors, which MPC does not count.
    @inlinable public static func QPRDC(_ n: Int) -> Int { 0x01430 + 0x40 * n }
}
// swiftlint:enable identifier_name
