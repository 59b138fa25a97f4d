import UIO

/// The RSS register contents the 82599 and the 82576 share: the 40-byte key in ten RSSRK
/// registers and a 128-entry redirection table (RETA) in 32 registers, four byte entries a
/// register, entry n in byte n mod 4 (82599 datasheet §8.2.3.7.13–14; 82576 §8.10.9–10).
///
/// Set-up only; the chip-specific MRQC value and register offsets stay with each driver.
public enum IntelRSS {
    /// RSSRK values for `key` (40 bytes): key byte 4n + i in bits 8i+7:8i of RSSRK[n].
    public static func keyRegisters(_ key: [UInt8] = ToeplitzHash.standardKey) -> [UInt32] {
        precondition(key.count == 40, "the Intel RSS key is 40 bytes")
        return packBytes(key)
    }

    /// The redirection table spreading hashes over `queues` queues round-robin: entry n
    /// (the hash's 7 low bits) names queue n mod `queues`, as Linux's default table does.
    public static func redirectionEntries(queues: Int) -> [UInt8] {
        precondition(queues >= 1 && queues <= 16, "RSS spreads over 1 to 16 queues")
        return (0..<128).map { UInt8($0 % queues) }
    }

    /// RETA register values for `entries` (128 bytes): entry 4n + i in bits 8i+7:8i of RETA[n].
    public static func redirectionRegisters(_ entries: [UInt8]) -> [UInt32] {
        precondition(entries.count == 128, "the redirection table has 128 entries")
        return packBytes(entries)
    }

    /// Four bytes a register, the first in bits 7:0.
    static func packBytes(_ bytes: [UInt8]) -> [UInt32] {
        var words: [UInt32] = []
        for n in stride(from: 0, to: bytes.count, by: 4) {
            var word: UInt32 = 0
            for i in 0..<4 { word |= UInt32(bytes[n + i]) << UInt32(8 * i) }
            words.append(word)
        }
        return words
    }

    /// The queue the device picks for `hash`: the entry at the hash's 7 low bits.
    public static func queue(forHash hash: UInt32, entries: [UInt8]) -> Int {
        Int(entries[Int(hash & 0x7F)] & 0x0F)
    }
}
