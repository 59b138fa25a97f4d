import Testing
import UIO
@testable import UIOSimulator

@Suite("Feature negotiation and reset")
struct NegotiationTests {
    typealias L = VirtioNetModelLayout

    @Test func legacyIdentityAndFeatures() throws {
        let d = try MiniDriver(layout: .legacy)
        #expect(d.function.vendorID == 0x1af4)
        #expect(d.function.deviceID == 0x1000)
        #expect(try d.function.capabilities(withID: 0x09).isEmpty)
        #expect(try d.function.readConfig(UInt32.self, at: 0x10) == 0xc041)  // I/O BAR0
        #expect(d.deviceFeatures == VirtioNetFeatures.legacyDefault)
        let status = try d.start(accepting: [.mac, .status, .controlVQ, .controlRX])
        #expect(status == L.Status.acknowledge | L.Status.driver | L.Status.driverOK)
        #expect(d.model.negotiatedFeatures == [.mac, .status, .controlVQ, .controlRX])
        #expect(d.model.headerSize == 10)
        #expect(d.registers.read32(L.Legacy.guestFeatures) == UInt32([VirtioNetFeatures.mac, .status, .controlVQ, .controlRX].reduce(0) { $0 | $1.rawValue }))
        #expect((0..<6).map { d.netConfigByte($0) } == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        #expect(d.netConfigByte(L.NetConfig.status) & 1 == 1)
        #expect(d.model.faults.isEmpty)
    }

    @Test func legacyResetForgetsEverything() throws {
        let d = try MiniDriver(layout: .legacy)
        try d.start(accepting: [.mac, .mergeableRXBuffers])
        #expect(d.model.headerSize == 12)
        d.model.setLink(up: false)
        #expect(d.model.pendingISR == 3)
        d.status = 0
        #expect(d.status == 0)
        #expect(d.model.negotiatedFeatures == [])
        #expect(d.model.pendingISR == 0)
        #expect(!d.model.interruptLine.isAsserted)
        d.registers.write16(L.Legacy.queueSelect, 0)
        #expect(d.registers.read32(L.Legacy.queuePFN) == 0)
        #expect(d.registers.read16(L.Legacy.queueSize) == 16)
    }

    @Test func legacyWrongWidthIsAFault() throws {
        let d = try MiniDriver(layout: .legacy)
        _ = d.registers.read32(L.Legacy.queueSize)
        #expect(d.model.faults.count == 1)
        #expect(!d.model.isBroken)
    }

    @Test func modernCapabilitiesPointIntoBAR4() throws {
        let d = try MiniDriver(layout: .modern)
        #expect(d.function.deviceID == 0x1041)
        #expect(try d.function.readConfig(UInt8.self, at: 0x08) >= 1)
        var found: [UInt8: (bar: UInt8, offset: UInt32, length: UInt32)] = [:]
        for cap in try d.function.capabilities(withID: 0x09) {
            let type = try d.function.readConfig(UInt8.self, at: cap + 3)
            found[type] = (try d.function.readConfig(UInt8.self, at: cap + 4),
                           try d.function.readConfig(UInt32.self, at: cap + 8),
                           try d.function.readConfig(UInt32.self, at: cap + 12))
            if type == L.Modern.capNotify { #expect(try d.function.readConfig(UInt32.self, at: cap + 16) == 4) }
        }
        #expect(found[1]?.bar == 4 && found[1]?.offset == 0x0000)
        #expect(found[2]?.bar == 4 && found[2]?.offset == 0x3000)
        #expect(found[3]?.bar == 4 && found[3]?.offset == 0x1000)
        #expect(found[4]?.bar == 4 && found[4]?.offset == 0x2000)
        // 64-bit prefetchable memory BAR4
        #expect(try d.function.readConfig(UInt32.self, at: 0x20) & 0xf == 0xc)
        #expect(throws: UIOError.self) { _ = try d.function.mapBAR(0) }
    }

    @Test func modernNegotiationAndFeaturesOK() throws {
        let d = try MiniDriver(layout: .modern)
        #expect(d.deviceFeatures == VirtioNetFeatures.modernDefault)
        #expect(d.registers.read16(L.Common.numQueues) == 3)
        let status = try d.start(accepting: [.version1, .mac, .status])
        #expect(status == L.Status.acknowledge | L.Status.driver | L.Status.featuresOK | L.Status.driverOK)
        #expect(d.model.negotiatedFeatures == [.version1, .mac, .status])
        #expect(d.model.headerSize == 12)
        #expect(d.registers.read16(L.Common.queueMSIXVector) == 0xffff)
        #expect(d.model.faults.isEmpty)
        d.status = 0
        #expect(d.model.negotiatedFeatures == [])
        d.registers.write16(L.Common.queueSelect, 1)
        #expect(d.registers.read16(L.Common.queueEnable) == 0)
        #expect(d.registers.read32(L.Common.queueDesc) == 0)
    }

    @Test func modernRefusesFeaturesWithoutVersion1() throws {
        let d = try MiniDriver(layout: .modern)
        let status = try d.start(accepting: [.mac])
        #expect(status & L.Status.featuresOK == 0)
        #expect(d.model.negotiatedFeatures == [])
    }

    @Test func modernRefusesFeaturesNotOffered() throws {
        let d = try MiniDriver(layout: .modern)
        d.status = L.Status.acknowledge | L.Status.driver
        d.writeDriverFeatures([.version1, .anyLayout])  // ANY_LAYOUT is legacy-only, not offered
        d.status = L.Status.acknowledge | L.Status.driver | L.Status.featuresOK
        #expect(d.status & L.Status.featuresOK == 0)
        #expect(d.model.faults.count == 1)
    }

    @Test func configurableFeatureSet() throws {
        let d = try MiniDriver(layout: .legacy, features: [.mac])
        #expect(d.deviceFeatures == [.mac])
        d.registers.write16(L.Legacy.queueSelect, 2)
        #expect(d.registers.read16(L.Legacy.queueSize) == 0)  // no control queue without CTRL_VQ
    }
}
