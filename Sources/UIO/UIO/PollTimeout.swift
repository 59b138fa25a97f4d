extension Duration {
    /// This duration as poll(2)'s timeout: whole milliseconds, clamped to Int32.
    public var pollMilliseconds: Int32 {
        Int32(clamping: components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}

extension Optional where Wrapped == Duration {
    /// poll(2)'s timeout for an optional duration: -1 (wait forever) for nil.
    public var pollMilliseconds: Int32 { map(\.pollMilliseconds) ?? -1 }
}
