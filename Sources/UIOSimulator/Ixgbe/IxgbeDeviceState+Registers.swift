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

    static let rxBlock2 = 0x0D000

    /// RX queues 0…63 at 0x1000 and 64…127 at 0xD000, TX queues 0…127 at 0x6000, the SRRCTL
    /// and DCA_RXCTRL aliases of queues 0…15, and the per-queue counters inside the blocks.
    static func queueRegister(_ offset: Int) -> QueueRegister? {
        let span = L.maxQueues * queueStride
        let rxSpan = 64 * queueStride
        if offset >= rxBlock, offset < rxBlock + rxSpan {
            return .rx(queue: (offset - rxBlock) / queueStride, offset: (offset - rxBlock) % queueStride)
        }
        if offset >= rxBlock2, offset < rxBlock2 + rxSpan {
            return .rx(queue: 64 + (offset - rxBlock2) / queueStride, offset: (offset - rxBlock2) % queueStride)
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
             L.DMATXCTL, L.RTTDCS, L.DTXMXSZRQ, L.SECRXCTRL:
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
            if ctrl & L.CTRL_GIO_DIS != 0, masterDisableReadsLeft > 0 { masterDisableReadsLeft -= 1 }
            return (linkUp ? L.STATUS_LINK_UP : 0) | (masterEnabled ? L.STATUS_GIO : 0)
        case L.EEC:
            guard eepromReadsLeft == 0 else { eepromReadsLeft -= 1; return L.EEC_PRES }
            return L.EEC_PRES | L.EEC_ARD
        case L.SECRXSTAT:
            guard register(L.SECRXCTRL) & L.SECRXCTRL_RX_DIS != 0 else { return 0 }
            guard secrxReadsLeft == 0 else { secrxReadsLeft -= 1; return 0 }
            return L.SECRXSTAT_SECRX_RDY
        case L.EICR:
            return readEICR()
        case L.EIMS:
            return eims
        case L.EICS, L.EIMC:
            return 0  // write-only
        case L.RDRXCTL:
            guard dmaInitReadsLeft == 0 else { dmaInitReadsLeft -= 1; return register(L.RDRXCTL) }
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
        case 0x28:
            if rx[q].enableReadsLeft > 0 {
                rx[q].enableReadsLeft -= 1
                if rx[q].enableReadsLeft == 0 { rx[q].enabled = rx[q].enableWritten }
            }
            return rx[q].rxdctl & ~L.RXDCTL_ENABLE | (rx[q].enabled ? L.RXDCTL_ENABLE : 0)
        case 0x30 where q < L.QUEUE_STAT_COUNTERS: return takeCounter(&stats.qprc[q])
        case 0x34 where q < L.QUEUE_STAT_COUNTERS: return readLow(&stats.qbrc[q], latch: &stats.qbrcLatched[q])
        case 0x38 where q < L.QUEUE_STAT_COUNTERS: return readHigh(&stats.qbrc[q], latch: &stats.qbrcLatched[q])
        // QPRDC(n) sits at offset 0x30 of the blocks of queues 16…31.
        case 0x30 where q >= 16 && q < 16 + L.QUEUE_STAT_COUNTERS: return takeCounter(&stats.qprdc[q - 16])
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
        case 0x28:
            if tx[q].enableReadsLeft > 0 {
                tx[q].enableReadsLeft -= 1
                if tx[q].enableReadsLeft == 0 { tx[q].enabled = tx[q].enableWritten }
            }
            return tx[q].txdctl & ~L.TXDCTL_ENABLE | (tx[q].enabled ? L.TXDCTL_ENABLE : 0)
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
        if !initDone, !earlyWriteRecorded, offset != L.CTRL, offset != L.EIMC, offset != L.EICR {
            earlyWriteRecorded = true
            record(.protocolViolation("write of 0x\(String(value, radix: 16)) to 0x\(String(offset, radix: 16)) before the reset finished: wait for EEC.ARD and RDRXCTL.DMAIDONE first (§4.6.3)"))
        }
        switch offset {
        case L.CTRL:
            if value & L.CTRL_RST_MASK != 0 {
                // §5.2.5.3.2 (Master Disable): before a software reset, the driver disables
                // receive and master access, and waits for STATUS.GIO to clear.
                if masterEnabled {
                    record(.protocolViolation("CTRL.RST with PCIe master access still enabled (STATUS.GIO set): set CTRL.GIO_DIS and wait for STATUS.GIO to clear before a reset (§5.2.5.3.2), or DMA in flight hits memory being freed"))
                }
                reset()
                resetReadsLeft = configuration.resetReads
                return  // the reset clears CTRL (GIO_DIS included)
            }
            if value & L.CTRL_GIO_DIS != 0, ctrl & L.CTRL_GIO_DIS == 0 {
                let active = rx.indices.filter { rx[$0].enabled } + tx.indices.filter { tx[$0].enabled }.map { $0 + 1000 }
                if let first = active.first {
                    let name = first >= 1000 ? "TX queue \(first - 1000)" : "RX queue \(first)"
                    record(.protocolViolation("CTRL.GIO_DIS with \(name) still enabled: the master disable sequence stops the queues first (§5.2.5.3.2)"))
                }
                masterDisableReadsLeft = configuration.settleReads
            }
            ctrl = value
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
        case L.RXCTRL:
            if value & L.RXCTRL_RXEN != 0, register(L.RXCTRL) & L.RXCTRL_RXEN == 0 { checkReceiveEnable() }
            plain[L.RXCTRL] = value
        case L.SECRXCTRL:
            if value & L.SECRXCTRL_RX_DIS != 0, register(L.SECRXCTRL) & L.SECRXCTRL_RX_DIS == 0 {
                secrxReadsLeft = configuration.settleReads
            }
            plain[L.SECRXCTRL] = value
        case L.STATUS, L.LINKS, L.EEC, L.SECRXSTAT:
            record(.register("write of 0x\(String(value, radix: 16)) to read-only register 0x\(String(offset, radix: 16))"))
        case L.GPRC, L.GPTC, L.GORCL, L.GORCH, L.GOTCL, L.GOTCH, L.ROC, L.MPC(0)..<L.MPC(L.PACKET_BUFFERS),
             L.QPRDC(0)..<L.QPRDC(L.QUEUE_STAT_COUNTERS) where offset % Self.queueStride == 0x30:
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
        case 0x18:
            if rx[q].enableWritten, !rx[q].enabled {
                record(.protocolViolation("RDT(\(q)) written before RXDCTL(\(q)).ENABLE read back: poll RXDCTL until the queue is enabled, then bump the tail (§4.6.7.1)"))
            }
            rx[q].rdt = value & 0xFFFF
        case 0x28:
            let was = rx[q].enableWritten
            rx[q].rxdctl = value
            if rx[q].enableWritten != was { rx[q].enableReadsLeft = max(1, configuration.settleReads) }
        default: counters.unknownRegisterWrites += 1
        }
    }

    /// RXCTRL.RXEN going on. The 82599 errata (Linux `ixgbe_enable_rx_dma_82599`): with
    /// traffic arriving, enabling receive can hang the RX DMA unit unless the security RX
    /// path is stopped first (SECRXCTRL.RX_DIS, then SECRXSTAT.SECRX_RDY). And RDRXCTL must
    /// hold the values §8.2.3.8.8 asks software to set.
    private mutating func checkReceiveEnable() {
        let secrx = register(L.SECRXCTRL) & L.SECRXCTRL_RX_DIS != 0
        if !secrx || secrxReadsLeft > 0 {
            record(.protocolViolation(secrx
                ? "RXCTRL.RXEN set before SECRXSTAT.SECRX_RDY: wait for the security RX path to drain (82599 errata, Linux ixgbe_enable_rx_dma_82599)"
                : "RXCTRL.RXEN set with the security RX path running: set SECRXCTRL.RX_DIS and wait for SECRXSTAT.SECRX_RDY first, or incoming traffic can hang the RX DMA (82599 errata, Linux ixgbe_enable_rx_dma_82599)"))
        }
        let rdrxctl = register(L.RDRXCTL)
        let required = L.RDRXCTL_RSCACKC | L.RDRXCTL_FCOE_WRFIX
        if rdrxctl & required != required || rdrxctl & L.RDRXCTL_RSCFRSTSIZE != 0 {
            record(.protocolViolation("RDRXCTL is 0x\(String(rdrxctl, radix: 16)) when receive is enabled: set RSCACKC (bit 25) and FCOE_WRFIX (bit 26) and clear RSCFRSTSIZE (bits 21:17), as §8.2.3.8.8 says software must"))
        }
    }

    private mutating func writeTX(_ q: Int, _ r: Int, _ value: UInt32) {
        switch r {
        case 0x00: tx[q].tdbal = value & ~0x7F
        case 0x04: tx[q].tdbah = value
        case 0x08: tx[q].tdlen = checkedRingLength(value, "TDLEN(\(q))")
        case 0x10: tx[q].tdh = value & 0xFFFF
        case 0x18:
            if tx[q].enableWritten, !tx[q].enabled {
                record(.protocolViolation("TDT(\(q)) written before TXDCTL(\(q)).ENABLE read back: poll TXDCTL until the queue is enabled (§4.6.8.1)"))
            }
            tx[q].tdt = value & 0xFFFF
        case 0x28:
            let was = tx[q].enableWritten
            tx[q].txdctl = value
            if tx[q].enableWritten != was { tx[q].enableReadsLeft = max(1, configuration.settleReads) }
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
