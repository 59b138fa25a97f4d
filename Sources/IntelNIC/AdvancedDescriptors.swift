import UIO

/// The advanced receive descriptor, 16 bytes (82599 datasheet §7.1.6; the 82576 uses the same
/// layout, §7.1.5).
///
/// Read format (driver → device): `pkt_addr` (le64 at 0), `hdr_addr` (le64 at 8, 0: no
/// header split). Write-back format (device → driver) overwrites the same 16 bytes:
/// `pkt_info`/`hdr_info`/RSS at 0…7, then `status_error` (le32 at 8), `length` (le16 at 12)
/// and `vlan` (le16 at 14). Writing `hdr_addr = 0` clears DD, so a posted slot never looks done.
public enum AdvancedRXDescriptor {
    public static let size = 16
    /// Descriptor Done (status bit 0).
    public static let STAT_DD: UInt32 = 0x01
    /// End of Packet (status bit 1): the frame ends in this descriptor's buffer.
    public static let STAT_EOP: UInt32 = 0x02

    /// Posts a buffer: the device will DMA a frame to `packetAddress`.
    @inlinable public static func setRead(_ d: UnsafeMutableRawPointer, packetAddress: UInt64) {
        d.storeBytes(of: packetAddress.littleEndian, as: UInt64.self)
        d.storeBytes(of: UInt64(0), toByteOffset: 8, as: UInt64.self)
    }

    /// The write-back `status_error`, read volatile because the device writes it by DMA.
    @inlinable public static func statusError(_ d: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: Volatile.load32(d + 8))
    }

    /// The write-back `length`: bytes of the frame in this descriptor's buffer.
    @inlinable public static func length(_ d: UnsafeRawPointer) -> Int {
        Int(UInt16(littleEndian: d.load(fromByteOffset: 12, as: UInt16.self)))
    }
}

/// The advanced transmit data descriptor, 16 bytes (82599 datasheet §7.2.3.2.4; the 82576
/// uses the same layout, §7.2.2.3).
///
/// Read format: buffer address (le64 at 0), `cmd_type_len` (le32 at 8) and `olinfo_status`
/// (le32 at 12). Write-back (with RS set): the device sets DD in the `status` at byte 12.
public enum AdvancedTXDescriptor {
    public static let size = 16
    /// DTYP = 0011b, advanced data descriptor (bits 23:20).
    public static let DTYP_DATA: UInt32 = 0x0030_0000
    /// End of Packet.
    public static let DCMD_EOP: UInt32 = 0x0100_0000
    /// Insert FCS (the device appends the Ethernet CRC).
    public static let DCMD_IFCS: UInt32 = 0x0200_0000
    /// Report Status: the device writes DD back once the descriptor is done.
    public static let DCMD_RS: UInt32 = 0x0800_0000
    /// Descriptor extension: advanced format.
    public static let DCMD_DEXT: UInt32 = 0x2000_0000
    /// PAYLEN, bits 31:14 of `olinfo_status`.
    public static let PAYLEN_SHIFT: UInt32 = 14
    /// Descriptor Done in the write-back status (bit 0).
    public static let STAT_DD: UInt32 = 0x01

    /// `cmd_type_len` for a frame that fits in one buffer.
    @inlinable public static func commandTypeLength(length: Int) -> UInt32 {
        DTYP_DATA | DCMD_DEXT | DCMD_IFCS | DCMD_RS | DCMD_EOP | UInt32(truncatingIfNeeded: length) & 0xFFFF
    }

    /// `olinfo_status`: PAYLEN is the whole frame; no checksum offload.
    @inlinable public static func offloadInfoStatus(length: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: length) << PAYLEN_SHIFT
    }

    @inlinable public static func setRead(_ d: UnsafeMutableRawPointer, bufferAddress: UInt64, length: Int) {
        d.storeBytes(of: bufferAddress.littleEndian, as: UInt64.self)
        d.storeBytes(of: commandTypeLength(length: length).littleEndian, toByteOffset: 8, as: UInt32.self)
        d.storeBytes(of: offloadInfoStatus(length: length).littleEndian, toByteOffset: 12, as: UInt32.self)
    }

    /// The write-back `status`, read volatile because the device writes it by DMA.
    @inlinable public static func status(_ d: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: Volatile.load32(d + 12))
    }
}
