extension Double {
    /// The value with exactly `digits` decimals ("12.50" for 12.5 and 2; halves round away
    /// from zero), for reports, without Foundation's `String(format:)`, which would load
    /// Foundation and ICU into every process and slow each start by about a second under TCG.
    public func decimalText(_ digits: Int) -> String {
        guard isFinite else { return isNaN ? "nan" : (self < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<max(digits, 0) { scale *= 10 }
        let scaled = (magnitude * scale).rounded()
        guard scaled < 9.0e18 else { return String(self) }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        let sign = self < 0 && units != 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let fraction = String(units % UInt64(scale))
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
