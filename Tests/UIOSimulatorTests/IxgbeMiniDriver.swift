import UIO
@testable import UIOSimulator

/// A hand-written 82599 bring-up for the model tests, after datasheet §4.6.3–§4.6.8: reset,
/// link, RX and TX rings of advanced descriptors in simulated DMA memory, interrupts by IVAR.
/// Not the real driver: just enough to drive the model register by register.
final class IxgbeMiniDriver {
    typealias L = IxgbeModelLayout
    static let ringSize = 32
    static let bufferSize = 2048

    let dma = SimulatedDMA()
    let model: IxgbeModel
    var function: SimulatedPCIFunction<IxgbeModel>
    let registers: SimulatedRegisters<IxgbeModel>
    var rxRings: [DMARegion] = []
    var txRings: [DMARegion] = []
    /// Per queue: ringSize buffers of 2 KiB.
    var rxBuffers: [DMARegion] = []
    var txBuffers: [DMARegion] = []
    /// The next TX descriptor the driver fills.
    var txTail: [Int] = []

    var clock: SimulatedClock { model.configuration.clock }
    var mac: [UInt8] { model.configuration.mac.array }

    init(_ configuration: IxgbeModel.Configuration = IxgbeModel.Configuration(linkUpDelay: .immediate, clock: .manual())) throws {
        model = IxgbeModel(configuration, dma: dma)
        function = model.makePCIFunction()
        registers = try function.mapBAR(0)
    }

    func read(_ offset: Int) -> UInt32 { registers.read32(offset) }
    func write(_ offset: Int, _ value: UInt32) { registers.write32(offset, value) }
    func set(_ offset: Int, _ bits: UInt32) { registers.setBits32(offset, bits) }
    func clear(_ offset: Int, _ bits: UInt32) { registers.clearBits32(offset, bits) }

    func enableBusMaster() throws {
        let command = try function.readConfig(UInt16.self, at: PCIConfig.command)
        try function.writeConfig(command | PCIConfig.commandBusMaster, at: PCIConfig.command)
    }

    /// Reads `offset` until `condition` holds of the value (the model's delays are counted in
    /// reads); traps after 100.
    @discardableResult
    func poll(_ offset: Int, _ what: String, until condition: (UInt32) -> Bool) -> UInt32 {
        for _ in 0..<100 {
            let value = read(offset)
            if condition(value) { return value }
        }
        preconditionFailure("\(what) never happened")
    }

    /// §4.6.3 with the §5.2.5.3.2 master disable before it: receive off, queues off (and
    /// read back), mask, GIO_DIS until STATUS.GIO clears, reset, wait for RST to clear, mask
    /// again, wait for EEPROM and DMA init.
    func reset() {
        write(L.RXCTRL, 0)
        write(L.EIMC, 0x7FFF_FFFF)
        for q in 0..<max(rxRings.count, txRings.count) {
            write(L.RXDCTL(q), L.RXDCTL_SWFLSH)
            write(L.TXDCTL(q), L.TXDCTL_SWFLSH)
            poll(L.RXDCTL(q), "RX queue \(q) disable") { $0 & L.RXDCTL_ENABLE == 0 }
            poll(L.TXDCTL(q), "TX queue \(q) disable") { $0 & L.TXDCTL_ENABLE == 0 }
        }
        write(L.CTRL, L.CTRL_GIO_DIS)
        poll(L.STATUS, "master disable") { $0 & L.STATUS_GIO == 0 }
        write(L.CTRL, L.CTRL_RST_MASK)
        poll(L.CTRL, "RST self-clear") { $0 & L.CTRL_RST_MASK == 0 }
        write(L.EIMC, 0x7FFF_FFFF)
        poll(L.EEC, "EEC.ARD") { $0 & L.EEC_ARD != 0 }
        poll(L.RDRXCTL, "RDRXCTL.DMAIDONE") { $0 & L.RDRXCTL_DMAIDONE != 0 }
    }

    /// The 82599 errata sequence around RXCTRL.RXEN (Linux `ixgbe_enable_rx_dma_82599`).
    func enableReceive() {
        set(L.SECRXCTRL, L.SECRXCTRL_RX_DIS)
        poll(L.SECRXSTAT, "SECRX_RDY") { $0 & L.SECRXSTAT_SECRX_RDY != 0 }
        set(L.RXCTRL, L.RXCTRL_RXEN)
        clear(L.SECRXCTRL, L.SECRXCTRL_RX_DIS)
    }

    /// The whole bring-up, with `queues` RX and TX queues, RX rings full, TX rings empty.
    func start(queues: Int = 1, rxBufferKiB: UInt32 = 2) throws {
        try enableBusMaster()
        reset()
        // §4.6.4: link.
        set(L.AUTOC, L.AUTOC_AN_RESTART)
        // §4.6.7: receive.
        clear(L.RXCTRL, L.RXCTRL_RXEN)
        write(L.RXPBSIZE(0), 128 << 10)
        set(L.HLREG0, L.HLREG0_RXCRCSTRP)
        write(L.RDRXCTL, read(L.RDRXCTL) & ~L.RDRXCTL_RSCFRSTSIZE
              | L.RDRXCTL_CRCSTRIP | L.RDRXCTL_RSCACKC | L.RDRXCTL_FCOE_WRFIX)
        set(L.FCTRL, L.FCTRL_BAM)
        for q in 0..<queues {
            let ring = try dma.allocate(size: Self.ringSize * 16, contiguous: true)
            let buffers = try dma.allocate(size: Self.ringSize * Self.bufferSize, contiguous: true)
            rxRings.append(ring)
            rxBuffers.append(buffers)
            let srrctl = read(L.SRRCTL(q)) & ~L.SRRCTL_DESCTYPE_MASK & ~L.SRRCTL_BSIZEPACKET_MASK
            write(L.SRRCTL(q), srrctl | L.SRRCTL_DESCTYPE_ADV_ONEBUF | L.SRRCTL_DROP_EN | rxBufferKiB)
            write(L.RDBAL(q), UInt32(truncatingIfNeeded: ring.physicalAddress))
            write(L.RDBAH(q), UInt32(truncatingIfNeeded: ring.physicalAddress >> 32))
            write(L.RDLEN(q), UInt32(Self.ringSize * 16))
            write(L.RDH(q), 0)
            write(L.RDT(q), 0)
            clear(L.DCA_RXCTRL(q), 1 << 12)
        }
        set(L.CTRL_EXT, L.CTRL_EXT_NS_DIS)
        for q in 0..<queues {
            set(L.RXDCTL(q), L.RXDCTL_ENABLE)
            poll(L.RXDCTL(q), "RX queue \(q) enable") { $0 & L.RXDCTL_ENABLE != 0 }
        }
        enableReceive()
        // §4.6.8: transmit.
        set(L.HLREG0, L.HLREG0_TXCRCEN | L.HLREG0_TXPADEN)
        write(L.TXPBSIZE(0), 40 << 10)
        write(L.DTXMXSZRQ, 0xFFF)
        set(L.RTTDCS, 1 << 6)
        for q in 0..<queues {
            let ring = try dma.allocate(size: Self.ringSize * 16, contiguous: true)
            txRings.append(ring)
            txBuffers.append(try dma.allocate(size: Self.ringSize * Self.bufferSize, contiguous: true))
            txTail.append(0)
            write(L.TDBAL(q), UInt32(truncatingIfNeeded: ring.physicalAddress))
            write(L.TDBAH(q), UInt32(truncatingIfNeeded: ring.physicalAddress >> 32))
            write(L.TDLEN(q), UInt32(Self.ringSize * 16))
        }
        clear(L.RTTDCS, 1 << 6)
        set(L.DMATXCTL, L.DMATXCTL_TE)
        for q in 0..<queues {
            write(L.TDH(q), 0)
            write(L.TDT(q), 0)
            set(L.TXDCTL(q), L.TXDCTL_ENABLE)
            poll(L.TXDCTL(q), "TX queue \(q) enable") { $0 & L.TXDCTL_ENABLE != 0 }
        }
    }

    /// §7.3: no MSI-X; RX queue q → vector q, TX queue q → vector 8 + q; EITR[0] interval.
    func enableInterrupts(queues: Int = 1, throttleMicroseconds: UInt32 = 0) {
        clear(L.GPIE, L.GPIE_MSIX_MODE)
        for q in 0..<queues {
            let shift = UInt32(16 * (q & 1))
            let rxEntry = (UInt32(q) | L.IVAR_ALLOC_VAL) << shift
            let txEntry = (UInt32(8 + q) | L.IVAR_ALLOC_VAL) << (shift + 8)
            write(L.IVAR(q / 2), read(L.IVAR(q / 2)) & ~(0xFFFF << shift) | rxEntry | txEntry)
        }
        write(L.EITR(0), (throttleMicroseconds / 2) << 3)
        _ = read(L.EICR)
        write(L.EIMS, L.EICR_LSC | L.EICR_RTX_QUEUE)
    }

    // MARK: RX

    func rxDescriptor(_ q: Int, _ i: Int) -> UnsafeMutableRawPointer { rxRings[q].virtualAddress + 16 * i }
    func rxBuffer(_ q: Int, _ i: Int) -> (virtual: UnsafeMutableRawPointer, physical: UInt64) {
        (rxBuffers[q].virtualAddress + Self.bufferSize * i, rxBuffers[q].physicalAddress + UInt64(Self.bufferSize * i))
    }

    /// Gives the device `count` more descriptors after RDT (read format: buffer address).
    func postRX(queue q: Int = 0, count: Int) {
        var tail = Int(read(L.RDT(q)))
        for _ in 0..<count {
            let d = rxDescriptor(q, tail)
            d.storeBytes(of: rxBuffer(q, tail).physical, as: UInt64.self)
            d.storeBytes(of: UInt64(0), toByteOffset: 8, as: UInt64.self)
            tail = (tail + 1) % Self.ringSize
        }
        write(L.RDT(q), UInt32(tail))
    }

    /// The write-back of descriptor `i`: (status_error, length).
    func rxWriteBack(queue q: Int = 0, _ i: Int) -> (status: UInt32, length: UInt16) {
        let d = rxDescriptor(q, i)
        return (d.load(fromByteOffset: 8, as: UInt32.self), d.load(fromByteOffset: 12, as: UInt16.self))
    }

    func rxData(queue q: Int = 0, _ i: Int, length: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: rxBuffer(q, i).virtual, count: length))
    }

    // MARK: TX

    func txDescriptor(_ q: Int, _ i: Int) -> UnsafeMutableRawPointer { txRings[q].virtualAddress + 16 * i }

    /// Queues `frame` in one descriptor per `split` bytes, EOP on the last, RS (if asked) on
    /// the last; moves TDT unless `bump` is false. Returns the descriptor indices used.
    @discardableResult
    func send(_ frame: [UInt8], queue q: Int = 0, split: Int = 2048, reportStatus: Bool = true, bump: Bool = true) -> [Int] {
        var used: [Int] = []
        var offset = 0
        repeat {
            let i = txTail[q]
            let n = min(split, frame.count - offset)
            let buffer = txBuffers[q].virtualAddress + Self.bufferSize * i
            frame.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            let last = offset == frame.count
            var command = L.TXD_DTYP_DATA | L.TXD_DCMD_DEXT | L.TXD_DCMD_IFCS | UInt32(n)
            if last { command |= L.TXD_DCMD_EOP | (reportStatus ? L.TXD_DCMD_RS : 0) }
            let d = txDescriptor(q, i)
            d.storeBytes(of: txBuffers[q].physicalAddress + UInt64(Self.bufferSize * i), as: UInt64.self)
            d.storeBytes(of: command, toByteOffset: 8, as: UInt32.self)
            d.storeBytes(of: UInt32(frame.count) << L.TXD_PAYLEN_SHIFT, toByteOffset: 12, as: UInt32.self)
            used.append(i)
            txTail[q] = (i + 1) % Self.ringSize
        } while offset < frame.count
        if bump { write(L.TDT(q), UInt32(txTail[q])) }
        return used
    }

    func txStatus(queue q: Int = 0, _ i: Int) -> UInt32 { txDescriptor(q, i).load(fromByteOffset: 12, as: UInt32.self) }

    // MARK: Frames

    static let broadcast: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

    /// `length` bytes to `destination`, from a fixed source, with a recognisable payload.
    static func frame(to destination: [UInt8], length: Int = 64, seed: UInt8 = 0) -> [UInt8] {
        var f = destination + [0x02, 0, 0, 0, 0, 0x99] + [0x08, 0x00]
        for i in f.count..<length { f.append(UInt8(truncatingIfNeeded: i) &+ seed) }
        return Array(f.prefix(length))
    }
}
