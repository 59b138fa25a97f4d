/// Interrupt causes, masks, vector allocation and throttling (82599 datasheet §7.3).
///
/// The INTx level is "some unmasked cause is pending": (EICR & EIMS) != 0, as for legacy
/// interrupts in §7.3.1.1. Queue causes reach EICR through IVAR and are throttled by EITR;
/// "other" causes (LSC) are not.
extension IxgbeDeviceState {
    var msixMode: Bool { register(L.GPIE) & L.GPIE_MSIX_MODE != 0 }

    mutating func updateInterruptLine() {
        pci.interruptLine.setLevel(eicr & eims != 0)
    }

    /// EICR read (§8.2.3.5.1): without MSI-X mode the read clears every cause, which also
    /// deasserts INTx. In MSI-X mode queue causes stay (they are cleared by writing 1 or by
    /// EIAC), and other causes clear unless GPIE.OCD is set.
    mutating func readEICR() -> UInt32 {
        let value = eicr
        if !msixMode {
            eicr = 0
        } else if register(L.GPIE) & L.GPIE_OCD == 0 {
            eicr &= L.EICR_RTX_QUEUE
        }
        counters.eicrReads += 1
        updateInterruptLine()
        return value
    }

    mutating func setCauses(_ bits: UInt32) {
        eicr |= bits & L.EICR_CAUSES
        updateInterruptLine()
    }

    /// A cause outside the queue map (LSC): set at once.
    mutating func raiseOther(_ bits: UInt32) {
        counters.interruptCauses += 1
        setCauses(bits)
    }

    /// The vector IVAR assigns to RX (`tx` false) or TX queue `q`, if the entry is valid.
    /// IVAR(q / 2) holds queue q's RX entry at byte 2·(q mod 2) and its TX entry one byte up.
    func vector(queue q: Int, tx: Bool) -> Int? {
        let shift = UInt32(16 * (q & 1) + (tx ? 8 : 0))
        let entry = register(L.IVAR(q / 2)) >> shift & 0xFF
        guard entry & L.IVAR_ALLOC_VAL != 0 else { return nil }
        return Int(entry & L.IVAR_VECTOR_MASK)
    }

    /// The minimum time between two interrupts of `vector`: EITR[vector] in MSI-X mode, and
    /// EITR[0] for legacy and MSI interrupts (§7.3.2.1).
    func throttleInterval(vector: Int) -> Duration {
        let eitr = register(L.EITR(msixMode ? vector : 0))
        let units = Int((eitr & L.EITR_ITR_INTERVAL_MASK) >> L.EITR_ITR_INTERVAL_SHIFT)
        return L.EITR_INTERVAL_UNIT * units
    }

    /// A queue event on RX or TX queue `q`: sets the IVAR-mapped cause bit (vector mod 16, the
    /// queue causes of EICR) unless EITR says the vector fired too recently; then the cause is
    /// held and set by the first `step()` after the interval.
    mutating func raiseQueue(_ q: Int, tx: Bool) {
        guard let v = vector(queue: q, tx: tx) else { return }
        let now = clock.now
        let interval = throttleInterval(vector: v)
        if let last = lastRaised[v], now - last < interval {
            if throttled & (1 << UInt64(v)) == 0 { counters.throttledInterrupts += 1 }
            throttled |= 1 << UInt64(v)
            return
        }
        fire(vector: v, at: now)
    }

    private mutating func fire(vector v: Int, at now: Duration) {
        lastRaised[v] = now
        throttled &= ~(1 << UInt64(v))
        counters.interruptCauses += 1
        setCauses(1 << UInt32(v % 16))
    }

    /// Sets the held causes whose interval has passed. Returns whether any fired.
    mutating func releaseThrottled() -> Bool {
        guard throttled != 0 else { return false }
        let now = clock.now
        var fired = false
        for v in 0..<L.maxQueues where throttled & (1 << UInt64(v)) != 0 {
            if let last = lastRaised[v], now - last < throttleInterval(vector: v) { continue }
            fire(vector: v, at: now)
            fired = true
        }
        return fired
    }
}
