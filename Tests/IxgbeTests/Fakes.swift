import FakeHardware
import Ixgbe
import UIO
#if canImport(Glibc)
import Glibc
#endif

/// Just enough of an 82599 for the driver's init to finish: a register file where CTRL.RST
/// clears itself, EEC.ARD and RDRXCTL.DMAIDONE are always set, queue enables read back as
/// written, STATUS.GIO reads clear, SECRXSTAT.SECRX_RDY follows SECRXCTRL.RX_DIS at once,
/// the link is up at 10 Gb/s, and EICR and the statistics are read-to-clear.
/// Not a device model: descriptors are written by the tests themselves.
final class FakeRegisters: RegisterAccess {
    var values: [Int: UInt32] = [:]
    /// Every write, in order.
    var writes: [(offset: Int, value: UInt32)] = []
    /// Causes enabled through EIMS and not masked again through EIMC.
    var interruptMask: UInt32 = 0
    var resetCount = 0
    /// When set, CTRL.RST never clears (a dead device).
    var resetSticks = false

    static let readToClear: Set<Int> = Set([IXGBE.EICR, IXGBE.GPRC, IXGBE.GPTC, IXGBE.GORCL, IXGBE.GORCH,
                                            IXGBE.GOTCL, IXGBE.GOTCH] + (0..<8).map { IXGBE.MPC($0) }
                                           + (0..<16).flatMap { [IXGBE.QPRC($0), IXGBE.QBRC_L($0), IXGBE.QBRC_H($0), IXGBE.QPRDC($0)] })

    init() {
        values[IXGBE.LINKS] = IXGBE.LINKS_UP | IXGBE.LINKS_SPEED_10G_82599
        // 52:54:00:12:34:56
        values[IXGBE.RAL(0)] = 0x1200_5452
        values[IXGBE.RAH(0)] = IXGBE.RAH_AV | 0x5634
        // Reset values the driver has to change.
        values[IXGBE.DCA_RXCTRL(0)] = IXGBE.DCA_RXCTRL_RESERVED_BIT12
        values[IXGBE.RTTDCS] = 0
        values[IXGBE.SRRCTL(0)] = 0x0000_0402
    }

    subscript(offset: Int) -> UInt32 {
        get { values[offset] ?? 0 }
        set { values[offset] = newValue }
    }

    func writes(to offset: Int) -> [UInt32] { writes.filter { $0.offset == offset }.map(\.value) }

    func read32(_ offset: Int) -> UInt32 {
        var value = values[offset] ?? 0
        switch offset {
        case IXGBE.EEC: value |= IXGBE.EEC_ARD
        case IXGBE.RDRXCTL: value |= IXGBE.RDRXCTL_DMAIDONE
        case IXGBE.SECRXSTAT:
            value = (values[IXGBE.SECRXCTRL] ?? 0) & IXGBE.SECRXCTRL_RX_DIS != 0 ? IXGBE.SECRXSTAT_SECRX_RDY : 0
        case IXGBE.EIMS: value = interruptMask
        default: break
        }
        if Self.readToClear.contains(offset) { values[offset] = 0 }
        return value
    }

    func write32(_ offset: Int, _ value: UInt32) {
        writes.append((offset, value))
        switch offset {
        case IXGBE.CTRL:
            if value & IXGBE.CTRL_RST != 0 { resetCount += 1 }
            if value & IXGBE.CTRL_RST_MASK != 0, !resetSticks {
                // A reset clears CTRL (GIO_DIS included) and the queue controls.
                values[offset] = 0
                for q in 0..<IXGBE.hardwareQueues {
                    values[IXGBE.RXDCTL(q)] = nil
                    values[IXGBE.TXDCTL(q)] = nil
                }
            } else {
                values[offset] = value
            }
        case IXGBE.EIMS: interruptMask |= value
        case IXGBE.EIMC: interruptMask &= ~value
        case IXGBE.AUTOC: values[offset] = value & ~IXGBE.AUTOC_AN_RESTART
        default: values[offset] = value
        }
    }

    func read8(_ offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: read32(offset & ~3) >> (8 * UInt32(offset & 3))) }
    func read16(_ offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: read32(offset & ~3) >> (8 * UInt32(offset & 3))) }
    func write8(_ offset: Int, _ value: UInt8) { fatalError("the ixgbe driver only makes 32-bit accesses") }
    func write16(_ offset: Int, _ value: UInt16) { fatalError("the ixgbe driver only makes 32-bit accesses") }
}

/// The fake registers as BAR0 of an 82599 at 0000:01:00.0 (`FakePCIFunction`).
typealias FakeFunction = FakePCIFunction<FakeRegisters>
typealias FakeAllocator = FakeDMAAllocator

extension FakePCIFunction where Registers == FakeRegisters {
    init(registers: FakeRegisters = FakeRegisters(), vendorID: UInt16 = 0x8086, deviceID: UInt16 = 0x10FB) {
        self.init(registers: registers, address: PCIAddress(bus: 1, device: 0, function: 0), vendorID: vendorID, deviceID: deviceID)
    }
}

/// Where the driver put queue `q`'s rings, read back from the registers it programmed.
extension FakeRegisters {
    func rxRing(_ q: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(self[IXGBE.RDBAL(q)]) | UInt(self[IXGBE.RDBAH(q)]) << 32)!
    }

    func txRing(_ q: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(self[IXGBE.TDBAL(q)]) | UInt(self[IXGBE.TDBAH(q)]) << 32)!
    }
}

/// Plays the device's part for one RX descriptor: writes `frame` into the posted buffer,
/// then the write-back (RSS junk over the address, status, length).
func deviceReceives(_ frame: [UInt8], ring: UnsafeMutableRawPointer, slot: Int, status: UInt32 = 0x3) {
    let d = ring + 16 * slot
    let address = d.load(as: UInt64.self)
    let buffer = UnsafeMutableRawPointer(bitPattern: UInt(address))!
    frame.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
    d.storeBytes(of: 0xDEAD_BEEF_0000_0000 as UInt64, as: UInt64.self)
    d.storeBytes(of: status, toByteOffset: 8, as: UInt32.self)
    d.storeBytes(of: UInt16(frame.count), toByteOffset: 12, as: UInt16.self)
}
