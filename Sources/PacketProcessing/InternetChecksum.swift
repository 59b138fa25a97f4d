/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
/// 16-bit big-endian words.
public enum InternetChecksum {
    /// The folded ones' complement sum of `length` bytes, added to `initial`.
    @inlinable public static func sum(_ bytes: UnsafeRawPointer, _ length: Int, initial: UInt32 = 0) -> UInt32 {
        var sum = UInt64(initial)
        var i = 0
        while i + 1 < length {
            sum &+= UInt64(bytes.load(fromByteOffset: i, as: UInt8.self)) << 8 | UInt64(bytes.load(fromByteOffset: i + 1, as: UInt8.self))
            i += 2
        }
        if i < length { sum &+= UInt64(bytes.load(fromByteOffset: i, as: UInt8.self)) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return UInt32(sum)
    }

    /// The checksum field's value: a region that includes a correct checksum sums to 0xffff.
    @inlinable public static func finish(_ sum: UInt32) -> UInt16 { ~UInt16(truncatingIfNeeded: sum) }

    @inlinable public static func compute(_ bytes: UnsafeRawPointer, _ length: Int, initial: UInt32 = 0) -> UInt16 {
        finish(sum(bytes, length, initial: initial))
    }
}
