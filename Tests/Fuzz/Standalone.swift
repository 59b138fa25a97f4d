// Only in the fuzz build (scripts/fuzz): the one helper from UIO that MACAddress.swift uses.
// The fuzzer compiles PacketProcessing's sources and MACAddress.swift into a single module
// named UIO, so that their `import UIO` names the module itself and nothing else is needed.
func hex<T: BinaryInteger>(_ value: T, width: Int = 4) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
