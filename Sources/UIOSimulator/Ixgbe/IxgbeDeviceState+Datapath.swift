import UIO

/// What the 82599 does with its rings: receive (§7.1) and transmit (§7.2) with advanced
/// descriptors. Called only from `IxgbeModel.step()` and friends, never from a register access.
extension IxgbeDeviceState {
    // MARK: Guest memory

    func pointer(_ address: UInt64, _ length: Int, _ what: @autoclosure () -> String) throws(IxgbeFault) -> UnsafeMutableRawPointer {
        guard let p = dma.translate(physical: address, length: length) else {
            throw .dmaOutsideMemory(address: address, length: length, what: what())
        }
        return p
    }

    func load<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64, _ what: @autoclosure () -> String) throws(IxgbeFault) -> T {
        T(littleEndian: try pointer(address, MemoryLayout<T>.size, what()).loadUnaligned(as: T.self))
    }

    func store<T: FixedWidthInteger>(_ value: T, at address: UInt64, _ what: @autoclosure () -> String) throws(IxgbeFault) {
        try pointer(address, MemoryLayout<T>.size, what()).storeBytes(of: value.littleEndian, as: T.self)
    }

    // MARK: Receive (§7.1)

    /// Delivers every injected frame, or drops it. Returns the number handled.
    mutating func deliverRX() -> Int {
        let pending = rxPending
        rxPending.removeAll()
        for (frame, queue) in pending { receive(frame, queue: queue ?? rssQueue(for: frame).queue) }
        return pending.count
    }

    /// The receive path for one frame from the wire: the link, the L2 filter (§7.1.1), the
    /// size check, then the queue's ring, counted as §8.2.3.23 counts (see `Statistics`).
    ///
    /// - Receive off (RXCTRL.RXEN clear): lost; the statistics only count while receive is on.
    /// - No room: with SRRCTL.DROP_EN the queue drops the frame from the packet buffer
    ///   (QPRDC; GPRC and GORC counted it on its way in); without, the frame waits in the
    ///   packet buffer until that overflows, which the model makes at once: a missed packet
    ///   (MPC, and GPRC on the 82599). The security RX path stopped (SECRXCTRL.RX_DIS) or DMA
    ///   off holds frames in the packet buffer too: missed.
    private mutating func receive(_ frame: [UInt8], queue q: Int) {
        guard linkUp else { counters.rxNoLink += 1; return }
        guard accepts(frame) else { counters.rxFiltered += 1; return }
        let jumbo = register(L.HLREG0) & L.HLREG0_JUMBOEN != 0
        if !jumbo && frame.count > L.maxStandardFrame {
            stats.roc += 1
            counters.rxOversize += 1
            return
        }
        guard register(L.RXCTRL) & L.RXCTRL_RXEN != 0 else { counters.rxMissed += 1; return }
        stats.gprc += 1
        guard register(L.SECRXCTRL) & L.SECRXCTRL_RX_DIS == 0, rx.indices.contains(q), isLive else {
            missed()
            return
        }
        let crcStripped = register(L.HLREG0) & L.HLREG0_RXCRCSTRP != 0
        let octets = UInt64(frame.count + (crcStripped ? 0 : L.fcsSize))
        let counter = statisticsCounter(rxQueue: q)
        guard rx[q].enabled else { noDescriptor(queue: q, counter: counter, octets: octets); return }
        do throws(IxgbeFault) {
            guard try place(frame, queue: q) else {
                noDescriptor(queue: q, counter: counter, octets: octets)
                return
            }
        } catch {
            record(error)
            missed()
            return
        }
        stats.gorc += octets
        stats.qprc[counter] += 1
        stats.qbrc[counter] += octets
        counters.rxFrames += 1
        counters.rxBytes += UInt64(frame.count)
        raiseQueue(q, tx: false)
    }

    /// A frame for a queue that has no free descriptor (or is disabled).
    private mutating func noDescriptor(queue q: Int, counter: Int, octets: UInt64) {
        if rx[q].srrctl & L.SRRCTL_DROP_EN != 0 {
            stats.gorc += octets
            stats.qprdc[counter] += 1
            counters.rxQueueDropped += 1
        } else {
            missed()
        }
    }

    private mutating func missed() {
        stats.mpc[0] += 1
        counters.rxMissed += 1
    }

    /// Writes `frame` into the buffers of descriptors RDH… (one per SRRCTL.BSIZEPACKET bytes,
    /// EOP on the last), writes them back and moves RDH. False if the ring has too few
    /// descriptors between RDH and RDT.
    private mutating func place(_ frame: [UInt8], queue q: Int) throws(IxgbeFault) -> Bool {
        let ring = rx[q]
        let name = "RX queue \(q)"
        guard ring.size > 0 else { throw .badRing(queue: name, reason: "enabled with RDLEN 0") }
        guard Int(ring.rdh) < ring.size, Int(ring.rdt) < ring.size else {
            throw .badRing(queue: name, reason: "RDH \(ring.rdh) or RDT \(ring.rdt) is outside the ring of \(ring.size) descriptors")
        }
        if ring.srrctl & L.SRRCTL_DESCTYPE_MASK != L.SRRCTL_DESCTYPE_ADV_ONEBUF {
            record(.protocolViolation("\(name): SRRCTL.DESCTYPE is \(ring.srrctl >> 25 & 7), but the model only writes advanced one-buffer descriptors (001b)"))
        }
        let bufferSize = ring.bufferSize
        guard bufferSize > 0 else {
            throw .badRing(queue: name, reason: "SRRCTL.BSIZEPACKET is 0: no receive buffer size")
        }
        let needed = max(1, (frame.count + bufferSize - 1) / bufferSize)
        let free = (Int(ring.rdt) - Int(ring.rdh) + ring.size) % ring.size
        guard free >= needed else { return false }
        var head = Int(ring.rdh)
        var offset = 0
        for i in 0..<needed {
            let descriptor = ring.base + UInt64(head * L.descriptorSize)
            let what = "\(name) descriptor \(head)"
            let buffer = try load(UInt64.self, at: descriptor, what)
            let n = min(bufferSize, frame.count - offset)
            if n > 0 {
                let p = try pointer(buffer, n, "\(what) packet buffer")
                frame.withUnsafeBytes { p.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            }
            offset += n
            // Write-back format: packet info and RSS hash 0, then status, length, VLAN.
            MemoryBarrier.write()  // the data before the status that says it is there
            try store(UInt64(0), at: descriptor, what)
            let last = i == needed - 1
            try store(L.RXD_STAT_DD | (last ? L.RXD_STAT_EOP : 0), at: descriptor + UInt64(L.RXD_STATUS_OFFSET), what)
            try store(UInt16(n), at: descriptor + UInt64(L.RXD_LENGTH_OFFSET), what)
            try store(UInt16(0), at: descriptor + UInt64(L.RXD_LENGTH_OFFSET + 2), what)
            head = (head + 1) % ring.size
        }
        rx[q].rdh = UInt32(head)
        return true
    }

    /// §7.1.1.1: unicast to a valid receive address (or anything with FCTRL.UPE), multicast
    /// with FCTRL.MPE (the multicast table is not modelled), broadcast with FCTRL.BAM.
    func accepts(_ frame: [UInt8]) -> Bool {
        guard frame.count >= 6 else { return false }
        let fctrl = register(L.FCTRL)
        let destination = frame[0..<6]
        if destination.allSatisfy({ $0 == 0xFF }) { return fctrl & L.FCTRL_BAM != 0 }
        if destination.first! & 1 != 0 { return fctrl & L.FCTRL_MPE != 0 }
        if fctrl & L.FCTRL_UPE != 0 { return true }
        return receiveAddressMatches(Array(destination))
    }

    private func receiveAddressMatches(_ address: [UInt8]) -> Bool {
        let low = UInt32(address[0]) | UInt32(address[1]) << 8 | UInt32(address[2]) << 16 | UInt32(address[3]) << 24
        let high = UInt32(address[4]) | UInt32(address[5]) << 8
        for n in 0..<L.RAR_ENTRIES {
            let rah = register(L.RAH(n))
            if rah & L.RAH_AV != 0, rah & 0xFFFF == high, register(L.RAL(n)) == low { return true }
        }
        return false
    }

    /// RQSMR/TQSM: which of the 16 per-queue counters queue `q` counts into (0 at reset).
    func statisticsCounter(rxQueue q: Int) -> Int {
        Int(register(L.RQSMR(q / 4)) >> UInt32(8 * (q % 4)) & 0xF)
    }

    func statisticsCounter(txQueue q: Int) -> Int {
        Int(register(L.TQSM(q / 4)) >> UInt32(8 * (q % 4)) & 0xF)
    }

    // MARK: Transmit (§7.2)

    /// Sends every complete frame between TDH and TDT of each enabled queue, when
    /// DMATXCTL.TE is set and the link is up (without link, frames wait in the ring).
    /// Returns the number of frames sent; they are appended to `transmitted`.
    mutating func processTX() -> Int {
        guard register(L.DMATXCTL) & L.DMATXCTL_TE != 0, linkUp, isLive else { return 0 }
        var sent = 0
        for q in tx.indices where tx[q].enabled {
            do throws(IxgbeFault) {
                sent += try transmit(queue: q)
            } catch {
                record(error)
                return sent
            }
        }
        return sent
    }

    private mutating func transmit(queue q: Int) throws(IxgbeFault) -> Int {
        let ring = tx[q]
        let name = "TX queue \(q)"
        guard ring.tdh != ring.tdt else { return 0 }
        guard ring.size > 0 else { throw .badRing(queue: name, reason: "enabled with TDLEN 0") }
        guard Int(ring.tdh) < ring.size, Int(ring.tdt) < ring.size else {
            throw .badRing(queue: name, reason: "TDH \(ring.tdh) or TDT \(ring.tdt) is outside the ring of \(ring.size) descriptors")
        }
        var sent = 0
        var head = Int(ring.tdh)
        let tail = Int(ring.tdt)
        while head != tail {
            // Gather one frame: data descriptors up to EOP (context descriptors carry none).
            var index = head
            var frame: [UInt8] = []
            var payloadLength: UInt32?
            var reportStatus: [Int] = []
            var complete = false
            while index != tail {
                let descriptor = ring.base + UInt64(index * L.descriptorSize)
                let what = "\(name) descriptor \(index)"
                let buffer = try load(UInt64.self, at: descriptor, what)
                let command = try load(UInt32.self, at: descriptor + UInt64(L.TXD_CMD_TYPE_LEN_OFFSET), what)
                let olinfo = try load(UInt32.self, at: descriptor + UInt64(L.TXD_OLINFO_OFFSET), what)
                if command & L.TXD_DCMD_RS != 0 { reportStatus.append(index) }
                index = (index + 1) % ring.size
                if command & L.TXD_DCMD_DEXT == 0 {
                    record(.protocolViolation("\(what) is a legacy descriptor (DEXT clear); the model reads it as an advanced data descriptor"))
                } else if command & L.TXD_DTYP_MASK == L.TXD_DTYP_CTXT {
                    continue
                } else if command & L.TXD_DTYP_MASK != L.TXD_DTYP_DATA {
                    record(.protocolViolation("\(what) has DTYP \(command >> 20 & 0xF); expected 0011b (data) or 0010b (context)"))
                    continue
                }
                if payloadLength == nil { payloadLength = olinfo >> L.TXD_PAYLEN_SHIFT }
                let length = Int(command & L.TXD_DTALEN_MASK)
                if length > 0 {
                    let p = try pointer(buffer, length, "\(what) buffer")
                    frame.append(contentsOf: UnsafeRawBufferPointer(start: p, count: length))
                }
                if command & L.TXD_DCMD_EOP != 0 { complete = true; break }
            }
            guard complete else { break }  // the rest of the frame is not posted yet
            if let payloadLength, payloadLength != UInt32(frame.count) {
                record(.protocolViolation("\(name) frame at descriptor \(head): PAYLEN \(payloadLength) but the descriptors hold \(frame.count) bytes"))
            }
            send(frame, queue: q)
            MemoryBarrier.write()
            for r in reportStatus {
                let at = ring.base + UInt64(r * L.descriptorSize + L.TXD_STATUS_OFFSET)
                try store(L.TXD_STAT_DD, at: at, "\(name) descriptor \(r) write-back")
            }
            head = index
            tx[q].tdh = UInt32(head)
            sent += 1
            if !reportStatus.isEmpty { raiseQueue(q, tx: true) }
        }
        return sent
    }

    /// Puts a frame on the wire: padded to 60 bytes with HLREG0.TXPADEN, counted with its FCS.
    private mutating func send(_ frame: [UInt8], queue q: Int) {
        var frame = frame
        if register(L.HLREG0) & L.HLREG0_TXPADEN != 0 && frame.count < L.minFrame {
            frame += [UInt8](repeating: 0, count: L.minFrame - frame.count)
        }
        stats.gptc += 1
        stats.gotc += UInt64(frame.count + L.fcsSize)
        stats.qptc[statisticsCounter(txQueue: q)] += 1
        counters.txFrames += 1
        counters.txBytes += UInt64(frame.count)
        transmitted.append(frame)
    }
}
