/// The register decoder: what a 32-bit read or write of BAR0 does (82599 datasheet §8.2.3).
/// Writes only record what the driver asked for; DMA waits for `step()`.
extension IxgbeDeviceState {
    /// A register of RX or TX queue `queue`, by its offset in the queue's 0x40-byte block.
    enum QueueRegister {
        case rx(queue: Int, offset: Int)
        case tx(queue: Int, offset: Int)
    }

    static let rxBlock = 0x01000
    static let txBlock = 0x06000
    static let queueStride = 0x40

    /// Queue blocks 0…63 (the second RX block, 0xD000, is not modelled), the SRRCTL and
    /// DCA_RXCTRL aliases of queues 0…15, and the per-queue counters inside the blocks.
    static func queueRegister(_ offset: Int) -> QueueRegister? {
        let span = L.maxQueues * queueStride
        if offset >= rxBlock, offset < rxBlock + span {
            return .rx(queue: (offset - rxBlock) / queueStride, offset: (offset - rxBlock) % queueStride)
        }
        if offset >= txBlock, offset < txBlock + span {
            return .tx(queue: (offset - txBlock) / queueStride, offset: (offset - txBlock) % queueStride)
        }
        if offset >= L.SRRCTL_ALIAS(0), offset < L.SRRCTL_ALIAS(16), offset % 4 == 0 {
            return .rx(queue: (offset - L.SRRCTL_ALIAS(0)) / 4, offset: 0x14)
        }
        if offset >= L.DCA_RXCTRL_ALIAS(0), offset < L.DCA_RXCTRL_ALIAS(16), offset % 4 == 0 {
            return .rx(queue: (offset - L.DCA_RXCTRL_ALIAS(0)) / 4, offset: 0x0C)
        }
        return nil
    }

    /// Registers that only hold a value for the driver (and for the model to consult).
    static func isPlain(_ offset: Int) -> Bool {
        switch offset {
        case L.CTRL_EXT, L.EIAC, L.EIAM, L.GPIE, L.IVAR_MISC, L.RXCTRL, L.FCTRL, L.HLREG0,
             L.DMATXCTL, L.RTTDCS, L.DTXMXSZRQ:
            return true
        case L.EITR(0)..<L.EITR(24), L.EITR(24)..<L.EITR(L.maxQueues),
             L.IVAR(0)..<L.IVAR(L.IVAR_COUNT),
             L.RXPBSIZE(0)..<L.RXPBSIZE(L.PACKET_BUFFERS), L.TXPBSIZE(0)..<L.TXPBSIZE(L.PACKET_BUFFERS),
             L.RQSMR(0)..<L.RQSMR(32), L.TQSM(0)..<L.TQSM(32),
             L.RAL(0)..<L.RAL(L.RAR_ENTRIES):
            return offset % 4 == 0
        default:
            return false
        }
    }

    // MARK: Reads

    mutating func read(_ offset: Int) -> UInt32 {
        switch offset {
        case L.CTRL:
            guard resetReadsLeft > 0 else { return ctrl }
            resetReadsLeft -= 1
            return ctrl | L.CTRL_RST
        case L.STATUS:
            return (linkUp ? L.STATUS_LINK_UP : 0) | (pci.busMasterEnabled ? L.STATUS_GIO : 0)
        case L.EEC:
            return L.EEC_PRES | L.EEC_ARD
        case L.EICR:
            return readEICR()
        case L.EIMS:
            return eims
        case L.EICS, L.EIMC:
            return 0  // write-only
        case L.RDRXCTL:
            return register(L.RDRXCTL) | L.RDRXCTL_DMAIDONE
        case L.AUTOC:
            return register(L.AUTOC)
        case L.LINKS:
            advanceLink(step: false)
            return linkUp ? L.LINKS_UP | L.LINKS_SPEED_10G : 0
        case L.GPRC: return takeCounter(&stats.gprc)
        case L.GPTC: return takeCounter(&stats.gptc)
        case L.ROC: return takeCounter(&stats.roc)
        case L.GORCL: return readLow(&stats.gorc, latch: &stats.gorcLatched)
        case L.GORCH: return readHigh(&stats.gorc, latch: &stats.gorcLatched)
        case L.GOTCL: return readLow(&stats.gotc, latch: &stats.gotcLatched)
        case L.GOTCH: return readHigh(&stats.gotc, latch: &stats.gotcLatched)
        case L.MPC(0)..<L.MPC(L.PACKET_BUFFERS) where offset % 4 == 0:
            return takeCounter(&stats.mpc[(offset - L.MPC(0)) / 4])
        default:
            break
        }
        if let queueRegister = Self.queueRegister(offset) {
            switch queueRegister {
            case .rx(let q, let r): return readRX(q, r)
            case .tx(let q, let r): return readTX(q, r)
            }
        }
        if Self.isPlain(offset) { return register(offset) }
        counters.unknownRegisterReads += 1
        return 0
    }

    private mutating func readRX(_ q: Int, _ r: Int) -> UInt32 {
        switch r {
        case 0x00: return rx[q].rdbal
        case 0x04: return rx[q].rdbah
        case 0x08: return rx[q].rdlen
        case 0x0C: return rx[q].dcaRXCtrl
        case 0x10: return rx[q].rdh
        case 0x14: return rx[q].srrctl
        case 0x18: return rx[q].rdt
        case 0x28: return rx[q].rxdctl
        case 0x30 where q < L.QUEUE_STAT_COUNTERS: return takeCounter(&stats.qprc[q])
        default:
            counters.unknownRegisterReads += 1
            return 0
        }
    }

    private mutating func readTX(_ q: Int, _ r: Int) -> UInt32 {
        switch r {
        case 0x00: return tx[q].tdbal
        case 0x04: return tx[q].tdbah
        case 0x08: return tx[q].tdlen
        case 0x10: return tx[q].tdh
        case 0x18: return tx[q].tdt
        case 0x28: return tx[q].txdctl
        case 0x30 where q < L.QUEUE_STAT_COUNTERS: return takeCounter(&stats.qptc[q])
        default:
            counters.unknownRegisterReads += 1
            return 0
        }
    }

    /// A 32-bit read-to-clear counter; it sticks at all ones rather than wrap.
    private func takeCounter(_ counter: inout UInt64) -> UInt32 {
        defer { counter = 0 }
        return UInt32(clamping: counter)
    }

    /// The low half of a 36-bit octet counter. The value is latched, so that the high read
    /// that follows reports and clears exactly what this read saw.
    private func readLow(_ counter: inout UInt64, latch: inout UInt64?) -> UInt32 {
        let value = min(counter, Self.octetCounterMax)
        latch = value
        return UInt32(truncatingIfNeeded: value)
    }

    /// The high half (bits 35:32): reading it clears the counter (of what the low read saw,
    /// or all of it when there was no low read).
    private func readHigh(_ counter: inout UInt64, latch: inout UInt64?) -> UInt32 {
        let value = latch ?? min(counter, Self.octetCounterMax)
        latch = nil
        counter -= min(counter, value)
        return UInt32(truncatingIfNeeded: value >> 32)
    }

    static let octetCounterMax: UInt64 = (1 << 36) - 1

    // MARK: Writes

    mutating func write(_ offset: Int, _ value: UInt32) {
        switch offset {
        case L.CTRL:
            if value & L.CTRL_RST_MASK != 0 {
                reset()
                resetReadsLeft = configuration.resetReads
            }
            ctrl = value & ~L.CTRL_RST_MASK
        case L.EICR:
            eicr &= ~value  // write 1 to clear
            updateInterruptLine()
        case L.EICS:
            counters.interruptCauses += 1
            setCauses(value)
        case L.EIMS:
            eims |= value & L.EICR_CAUSES
            updateInterruptLine()
        case L.EIMC:
            eims &= ~value
            updateInterruptLine()
        case L.AUTOC:
            plain[L.AUTOC] = value & ~L.AUTOC_AN_RESTART  // self-clearing
            if value & L.AUTOC_AN_RESTART != 0 { restartAutoNegotiation() }
        case L.RDRXCTL:
            plain[L.RDRXCTL] = value & ~L.RDRXCTL_DMAIDONE
        case L.STATUS, L.LINKS, L.EEC:
            record(.register("write of 0x\(String(value, radix: 16)) to read-only register 0x\(String(offset, radix: 16))"))
        case L.GPRC, L.GPTC, L.GORCL, L.GORCH, L.GOTCL, L.GOTCH, L.ROC, L.MPC(0)..<L.MPC(L.PACKET_BUFFERS):
            break  // statistics are read-only; the 82599 ignores writes
        default:
            if let queueRegister = Self.queueRegister(offset) {
                switch queueRegister {
                case .rx(let q, let r): writeRX(q, r, value)
                case .tx(let q, let r): writeTX(q, r, value)
                }
            } else if Self.isPlain(offset) {
                plain[offset] = value
            } else {
                counters.unknownRegisterWrites += 1
            }
        }
    }

    private mutating func writeRX(_ q: Int, _ r: Int, _ value: UInt32) {
        switch r {
        case 0x00: rx[q].rdbal = value & ~0x7F  // 128-byte aligned: bits 6:0 read 0
        case 0x04: rx[q].rdbah = value
        case 0x08: rx[q].rdlen = checkedRingLength(value, "RDLEN(\(q))")
        case 0x0C: rx[q].dcaRXCtrl = value
        case 0x10: rx[q].rdh = value & 0xFFFF
        case 0x14: rx[q].srrctl = value
        case 0x18: rx[q].rdt = value & 0xFFFF
        case 0x28: rx[q].rxdctl = value
        default: counters.unknownRegisterWrites += 1
        }
    }

    private mutating func writeTX(_ q: Int, _ r: Int, _ value: UInt32) {
        switch r {
        case 0x00: tx[q].tdbal = value & ~0x7F
        case 0x04: tx[q].tdbah = value
        case 0x08: tx[q].tdlen = checkedRingLength(value, "TDLEN(\(q))")
        case 0x10: tx[q].tdh = value & 0xFFFF
        case 0x18: tx[q].tdt = value & 0xFFFF
        case 0x28: tx[q].txdctl = value
        default: counters.unknownRegisterWrites += 1
        }
    }

    /// RDLEN/TDLEN: bits 19:7, a multiple of 128 bytes (8 descriptors).
    private mutating func checkedRingLength(_ value: UInt32, _ name: String) -> UInt32 {
        if value & 0x7F != 0 || value > 0xF_FF80 {
            record(.protocolViolation("\(name) written \(value): ring lengths are a multiple of 128 bytes below 1 MiB (§8.2.3.8.3); the low bits are ignored"))
        }
        return value & 0xF_FF80
    }
}
