/// Register offsets and bits of the Intel 82576, as the 82576 datasheet (chapter 8) names
/// them; the values are those of Linux's `e1000_regs.h` and `e1000_defines.h`.
///
/// Only what this driver uses. Queue registers use the 82576's own map (RDBAL(n) at
/// 0xC000 + 0x40·n); the 0x2800/0x3800 locations of queues 0–3 are e1000 aliases.
public enum IGB {
    // MARK: General (§8.2)
    public static let CTRL = 0x0000
    public static let STATUS = 0x0008
    public static let EECD = 0x0010
    public static let CTRL_EXT = 0x0018
    public static let MDIC = 0x0020

    public static let CTRL_FD: UInt32 = 1 << 0
    /// GIO Master Disable: the device stops issuing new PCIe requests.
    public static let CTRL_GIO_MASTER_DISABLE: UInt32 = 1 << 2
    /// Set Link Up: the MAC follows the PHY's link indication.
    public static let CTRL_SLU: UInt32 = 1 << 6
    public static let CTRL_FRCSPD: UInt32 = 1 << 11
    public static let CTRL_FRCDPX: UInt32 = 1 << 12
    /// Device reset; self-clearing.
    public static let CTRL_RST: UInt32 = 1 << 26

    public static let STATUS_FD: UInt32 = 1 << 0
    public static let STATUS_LU: UInt32 = 1 << 1
    public static let STATUS_SPEED_MASK: UInt32 = 3 << 6
    public static let STATUS_SPEED_100: UInt32 = 1 << 6
    public static let STATUS_SPEED_1000: UInt32 = 2 << 6
    /// Cleared once the device has no PCIe master request pending after GIO master disable.
    public static let STATUS_GIO_MASTER_ENABLE: UInt32 = 1 << 19

    /// EEPROM auto-read done after reset.
    public static let EECD_AUTO_RD: UInt32 = 1 << 9

    /// Driver loaded: tells the firmware that software owns the device.
    public static let CTRL_EXT_DRV_LOAD: UInt32 = 1 << 28

    // MARK: MDI control (MDIC): the internal PHY's registers
    public static let MDIC_REG_SHIFT: UInt32 = 16
    public static let MDIC_PHY_SHIFT: UInt32 = 21
    public static let MDIC_OP_WRITE: UInt32 = 1 << 26
    public static let MDIC_OP_READ: UInt32 = 2 << 26
    public static let MDIC_READY: UInt32 = 1 << 28
    public static let MDIC_ERROR: UInt32 = 1 << 30
    /// The internal PHY answers at MDIO address 1.
    public static let PHY_ADDRESS: UInt32 = 1

    /// PHY register 0, the IEEE 802.3 clause 22 control register (BMCR).
    public static let PHY_CONTROL: UInt32 = 0
    public static let PHY_CONTROL_SPEED_1000: UInt16 = 1 << 6
    public static let PHY_CONTROL_FULL_DUPLEX: UInt16 = 1 << 8
    public static let PHY_CONTROL_RESTART_AN: UInt16 = 1 << 9
    public static let PHY_CONTROL_AN_ENABLE: UInt16 = 1 << 12

    // MARK: Interrupts (§8.8)
    /// e1000-compatible cause, set and mask registers. These, not the 0x1500-range
    /// aliases, are what Linux's igb uses, and the ones QEMU's igb implements.
    public static let ICR = 0x00C0
    public static let ICS = 0x00C8
    public static let IMS = 0x00D0
    public static let IMC = 0x00D8
    public static let EIMC = 0x1528
    public static let EIAC = 0x152C
    public static let EICR = 0x1580
    public static let GPIE = 0x1514
    public static func EITR(_ n: Int) -> Int { 0x1680 + 4 * n }

    public static let ICR_TXDW: UInt32 = 1 << 0
    /// Link status change.
    public static let ICR_LSC: UInt32 = 1 << 2
    /// Receiver descriptor write-back: a frame was stored in a receive ring.
    public static let ICR_RXDW: UInt32 = 1 << 7
    public static let IRQ_CLEAR_MASK: UInt32 = 0xFFFF_FFFF
    public static let GPIE_MSIX_MODE: UInt32 = 1 << 4
    /// EITR interval, bits 14:2, in microseconds.
    public static let EITR_INTERVAL_MASK: UInt32 = 0x7FFC

    // MARK: Receive: global and per-queue registers
    public static let RCTL = 0x0100
    public static let RCTL_EN: UInt32 = 1 << 1
    public static let RCTL_UPE: UInt32 = 1 << 3
    public static let RCTL_MPE: UInt32 = 1 << 4
    public static let RCTL_LPE: UInt32 = 1 << 5
    /// Broadcast accept mode.
    public static let RCTL_BAM: UInt32 = 1 << 15
    /// Strip the Ethernet CRC from received frames.
    public static let RCTL_SECRC: UInt32 = 1 << 26

    /// Receive Checksum Control (82576 §8.10.6). PCSD (bit 13): the write-back carries the RSS
    /// hash; QEMU's igb hashes only with PCSD set.
    public static let RXCSUM = 0x5000
    public static let RXCSUM_PCSD: UInt32 = 1 << 13
    /// Multiple Receive Queues Command (82576 §8.10.7; Linux `E1000_MRQC_*`): bits 2:0 = 010b
    /// is RSS without virtualisation; bits 16 (TCP/IPv4), 17 (IPv4) and 22 (UDP/IPv4) say what
    /// RSS hashes.
    public static let MRQC = 0x5818
    public static let MRQC_ENABLE_RSS_MQ: UInt32 = 0x2
    public static let MRQC_RSS_FIELD_IPV4_TCP: UInt32 = 1 << 16
    public static let MRQC_RSS_FIELD_IPV4: UInt32 = 1 << 17
    public static let MRQC_RSS_FIELD_IPV4_UDP: UInt32 = 1 << 22
    /// RSS Random Key (82576 §8.10.10): 10 registers, key byte 4n in bits 7:0 of RSSRK[n].
    public static func RSSRK(_ n: Int) -> Int { 0x5C80 + 4 * n }
    public static let RSSRK_COUNT = 10
    /// Redirection Table (82576 §8.10.9): 128 byte entries in 32 registers, indexed by the
    /// hash's 7 low bits; the queue is in the entry's low bits (QEMU: bits 3:0).
    public static func RETA(_ n: Int) -> Int { 0x5C00 + 4 * n }
    public static let RETA_ENTRIES = 128
    public static func MTA(_ n: Int) -> Int { 0x5200 + 4 * n }
    public static let MTA_COUNT = 128
    public static func RAL(_ n: Int) -> Int { 0x5400 + 8 * n }
    public static func RAH(_ n: Int) -> Int { 0x5404 + 8 * n }

    public static func RDBAL(_ n: Int) -> Int { 0xC000 + 0x40 * n }
    public static func RDBAH(_ n: Int) -> Int { 0xC004 + 0x40 * n }
    public static func RDLEN(_ n: Int) -> Int { 0xC008 + 0x40 * n }
    public static func SRRCTL(_ n: Int) -> Int { 0xC00C + 0x40 * n }
    public static func RDH(_ n: Int) -> Int { 0xC010 + 0x40 * n }
    @inlinable public static func RDT(_ n: Int) -> Int { 0xC018 + 0x40 * n }
    public static func RXDCTL(_ n: Int) -> Int { 0xC028 + 0x40 * n }

    /// Packet buffer size in 1 KB units, bits 6:0.
    public static let SRRCTL_BSIZEPKT_SHIFT: UInt32 = 10
    public static let SRRCTL_BSIZEPKT_MASK: UInt32 = 0x7F
    public static let SRRCTL_DESCTYPE_MASK: UInt32 = 7 << 25
    public static let SRRCTL_DESCTYPE_ADV_ONEBUF: UInt32 = 1 << 25
    /// Drop a frame when the queue has no free descriptor, instead of holding up the others.
    public static let SRRCTL_DROP_EN: UInt32 = 1 << 31
    public static let RXDCTL_ENABLE: UInt32 = 1 << 25

    // MARK: Transmit: global and per-queue registers
    public static let TCTL = 0x0400
    public static let TCTL_EN: UInt32 = 1 << 1
    /// Pad short packets to 64 bytes (with the FCS).
    public static let TCTL_PSP: UInt32 = 1 << 3
    public static let TCTL_CT_MASK: UInt32 = 0xFF << 4
    public static let TCTL_COLD_MASK: UInt32 = 0x3FF << 12
    /// Collision threshold 15 and full-duplex collision distance 63 (Linux's igb values).
    public static let TCTL_CT_DEFAULT: UInt32 = 0x0F << 4
    public static let TCTL_COLD_DEFAULT: UInt32 = 0x3F << 12

    public static func TDBAL(_ n: Int) -> Int { 0xE000 + 0x40 * n }
    public static func TDBAH(_ n: Int) -> Int { 0xE004 + 0x40 * n }
    public static func TDLEN(_ n: Int) -> Int { 0xE008 + 0x40 * n }
    public static func TDH(_ n: Int) -> Int { 0xE010 + 0x40 * n }
    @inlinable public static func TDT(_ n: Int) -> Int { 0xE018 + 0x40 * n }
    public static func TXDCTL(_ n: Int) -> Int { 0xE028 + 0x40 * n }
    public static let TXDCTL_ENABLE: UInt32 = 1 << 25

    // MARK: Statistics (§8.19), read-to-clear
    public static let MPC = 0x4010
    public static let GPRC = 0x4074
    public static let GPTC = 0x4080
    /// 64-bit octet counters: low half first, reading the high half clears both.
    public static let GORCL = 0x4088
    public static let GORCH = 0x408C
    public static let GOTCL = 0x4090
    public static let GOTCH = 0x4094

    /// GORC and GOTC count each frame from the destination address through the CRC.
    public static let fcsSize: UInt64 = 4
}
