import IntelNIC
import Testing
import UIO
@testable import Igb

/// Register offsets and bits against Linux's `e1000_regs.h` / `e1000_defines.h` (82576),
/// and the IDs this driver's table accepts.
@Suite struct IgbLayoutTests {
    @Test func interruptRegistersAreTheE1000CompatibleOnes() {
        // QEMU's igb ignores the 0x1500-range aliases; Linux's igb uses these.
        #expect(IGB.ICR == 0x00C0 && IGB.ICS == 0x00C8 && IGB.IMS == 0x00D0 && IGB.IMC == 0x00D8)
        #expect(IGB.EICR == 0x1580 && IGB.EIMC == 0x1528 && IGB.EIAC == 0x152C && IGB.GPIE == 0x1514)
        #expect(IGB.EITR(0) == 0x1680 && IGB.EITR(9) == 0x16A4)
        #expect(IGB.ICR_LSC == 0x04 && IGB.ICR_RXDW == 0x80)
    }

    @Test func queueRegistersFollowThe82576Map() {
        #expect(IGB.RDBAL(0) == 0xC000 && IGB.RDBAH(0) == 0xC004 && IGB.RDLEN(0) == 0xC008)
        #expect(IGB.SRRCTL(0) == 0xC00C && IGB.RDH(0) == 0xC010 && IGB.RDT(0) == 0xC018 && IGB.RXDCTL(0) == 0xC028)
        #expect(IGB.RDT(15) == 0xC018 + 15 * 0x40)
        #expect(IGB.TDBAL(0) == 0xE000 && IGB.TDLEN(0) == 0xE008 && IGB.TDH(0) == 0xE010 && IGB.TDT(0) == 0xE018)
        #expect(IGB.TXDCTL(0) == 0xE028 && IGB.TDT(3) == 0xE0D8)
        #expect(IGB.RXDCTL_ENABLE == 0x0200_0000 && IGB.TXDCTL_ENABLE == 0x0200_0000)
        #expect(IGB.SRRCTL_DESCTYPE_ADV_ONEBUF == 0x0200_0000 && IGB.SRRCTL_DROP_EN == 0x8000_0000)
    }

    @Test func generalAndStatisticsRegisters() {
        #expect(IGB.CTRL == 0 && IGB.STATUS == 8 && IGB.EECD == 0x10 && IGB.CTRL_EXT == 0x18 && IGB.MDIC == 0x20)
        #expect(IGB.CTRL_RST == 0x0400_0000 && IGB.CTRL_SLU == 0x40 && IGB.CTRL_GIO_MASTER_DISABLE == 0x4)
        #expect(IGB.STATUS_LU == 0x2 && IGB.STATUS_GIO_MASTER_ENABLE == 0x0008_0000 && IGB.EECD_AUTO_RD == 0x200)
        #expect(IGB.RCTL == 0x100 && IGB.TCTL == 0x400 && IGB.RAL(0) == 0x5400 && IGB.RAH(0) == 0x5404)
        #expect(IGB.RCTL_SECRC == 0x0400_0000 && IGB.RCTL_BAM == 0x8000)
        #expect(IGB.MPC == 0x4010 && IGB.GPRC == 0x4074 && IGB.GPTC == 0x4080)
        #expect(IGB.GORCL == 0x4088 && IGB.GOTCL == 0x4090)
        #expect(IGB.MDIC_OP_WRITE == 0x0400_0000 && IGB.MDIC_READY == 0x1000_0000 && IGB.MDIC_ERROR == 0x4000_0000)
    }

    @Test(arguments: [UInt16(0x10C9), 0x10E6, 0x10E7, 0x10E8, 0x1526, 0x150A, 0x1518, 0x150D])
    func theTableHas82576(id: UInt16) throws {
        #expect(IgbDeviceIDs.entry(vendor: 0x8086, device: id) != nil)
        #expect(IgbPart.deviceIDs[id] != nil)
        _ = try IgbPart.require(vendor: 0x8086, device: id)
    }

    @Test func refusesTheVirtualFunctionAndOtherVendors() {
        #expect(IgbDeviceIDs.entry(vendor: 0x8086, device: 0x10CA) == nil)
        #expect(throws: UIOError.self) { try IgbPart.require(vendor: 0x8086, device: 0x10CA) }
        #expect(throws: UIOError.self) { try IgbPart.require(vendor: 0x1af4, device: 0x10C9) }
    }

    @Test func configurationErrorsSayWhatToChange() {
        #expect(throws: UIOError.self) { try IgbConfiguration(rxQueues: 17).validate() }
        #expect(throws: UIOError.self) { try IgbConfiguration(ringSize: 100).validate() }
        #expect(throws: UIOError.self) { try IgbConfiguration(ringSize: 512, mempoolSize: 100).validate() }
        #expect(throws: Never.self) { try IgbConfiguration().validate() }
    }
}
