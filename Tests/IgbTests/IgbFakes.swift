import FakeHardware
import Igb
import UIO
#if canImport(Glibc)
import Glibc
#endif

/// Just enough of an 82576 for the driver's init to finish, with QEMU's igb's behaviour
/// where the tests depend on it: CTRL.RST clears itself, EECD.AUTO_RD never sets, an MDIC
/// write completes at once and a BMCR write with auto-negotiation restart brings STATUS.LU
/// up at 1000 Mb/s, queue enables read back as written, ICR and the statistics are
/// read-to-clear and ICR is write-1-to-clear. Not a device model: the tests play the
/// device's part in the descriptors.
final class FakeIgbRegisters: RegisterAccess {
    var values: [Int: UInt32] = [:]
    /// Every write, in order.
    var writes: [(offset: Int, value: UInt32)] = []
    var resetCount = 0

    static let readToClear: Set<Int> = [IGB.ICR, IGB.GPRC, IGB.GPTC, IGB.GORCL, IGB.GORCH, IGB.GOTCL, IGB.GOTCH, IGB.MPC]

    init() {
        // 52:54:00:12:34:50, as QEMU loads it into RA[0] with Address Valid.
        values[IGB.RAL(0)] = 0x1200_5452
        values[IGB.RAH(0)] = 0x8000_5034
        values[IGB.STATUS] = IGB.STATUS_GIO_MASTER_ENABLE
    }

    subscript(offset: Int) -> UInt32 {
        get { values[offset] ?? 0 }
        set { values[offset] = newValue }
    }

    func writes(to offset: Int) -> [UInt32] { writes.filter { $0.offset == offset }.map(\.value) }
    /// Index in `writes` of the first write to `offset` matching `predicate`.
    func firstWrite(to offset: Int, where predicate: (UInt32) -> Bool = { _ in true }) -> Int? {
        writes.firstIndex { $0.offset == offset && predicate($0.value) }
    }

    func read32(_ offset: Int) -> UInt32 {
        let value = values[offset] ?? 0
        if Self.readToClear.contains(offset) { values[offset] = 0 }
        return value
    }

    func write32(_ offset: Int, _ value: UInt32) {
        writes.append((offset, value))
        switch offset {
        case IGB.CTRL:
            if value & IGB.CTRL_RST != 0 {
                resetCount += 1
                values[IGB.STATUS] = IGB.STATUS_GIO_MASTER_ENABLE   // link down after a reset
            }
            values[offset] = value & IGB.CTRL_RST != 0 ? 0 : value   // a reset restores CTRL's defaults
            var status = values[IGB.STATUS] ?? 0
            if values[offset, default: 0] & IGB.CTRL_GIO_MASTER_DISABLE != 0 { status &= ~IGB.STATUS_GIO_MASTER_ENABLE } else { status |= IGB.STATUS_GIO_MASTER_ENABLE }
            values[IGB.STATUS] = status
        case IGB.MDIC:
            values[offset] = value | IGB.MDIC_READY
            let register = value >> IGB.MDIC_REG_SHIFT & 0x1F
            if value & IGB.MDIC_OP_WRITE != 0, register == IGB.PHY_CONTROL, UInt16(truncatingIfNeeded: value) & IGB.PHY_CONTROL_RESTART_AN != 0 {
                values[IGB.STATUS, default: 0] |= IGB.STATUS_LU | IGB.STATUS_SPEED_1000 | IGB.STATUS_FD
            }
        case IGB.ICR: values[offset, default: 0] &= ~value
        default: values[offset] = value
        }
    }

    func read8(_ offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: read32(offset & ~3) >> (8 * UInt32(offset & 3))) }
    func read16(_ offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: read32(offset & ~3) >> (8 * UInt32(offset & 3))) }
    func write8(_ offset: Int, _ value: UInt8) { fatalError("the igb driver only makes 32-bit accesses") }
    func write16(_ offset: Int, _ value: UInt16) { fatalError("the igb driver only makes 32-bit accesses") }

    func rxRing(_ q: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(self[IGB.RDBAL(q)]) | UInt(self[IGB.RDBAH(q)]) << 32)!
    }

    func txRing(_ q: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(self[IGB.TDBAL(q)]) | UInt(self[IGB.TDBAH(q)]) << 32)!
    }
}

/// The fake registers as BAR0 of an 82576 at 0000:00:04.0 (`FakePCIFunction`).
typealias FakeIgbFunction = FakePCIFunction<FakeIgbRegisters>
typealias FakeIgbAllocator = FakeDMAAllocator

extension FakePCIFunction where Registers == FakeIgbRegisters {
    init(registers: FakeIgbRegisters = FakeIgbRegisters(), deviceID: UInt16 = 0x10C9) {
        self.init(registers: registers, address: PCIAddress(bus: 0, device: 4, function: 0), deviceID: deviceID)
    }
}
