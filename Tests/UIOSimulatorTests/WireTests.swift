import Testing
import UIO
#if canImport(Glibc)
import Glibc
#endif
@testable import UIOSimulator

@Suite("Wire")
struct WireTests {
    @Test func framesCrossBackToBack() throws {
        let a = try MiniDriver(layout: .modern)
        let b = try MiniDriver(layout: .legacy)
        try a.start()
        try b.start()
        let wire = Wire(a.model, b.model)
        b.queues[0].post([(b.buffer(0).physical, 2048, true)])
        let frame = MiniDriver.frame(80, seed: 5)
        let (v, p) = a.buffer(0)
        memset(v, 0, 12)
        frame.withUnsafeBytes { (v + 12).copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        a.queues[1].post([(p, 12 + frame.count, false)])
        a.notify(1)
        #expect(wire.step())
        #expect(wire.captures == [Wire.Capture(direction: .aToB, frame: frame)])
        #expect(b.queues[0].takeUsed().first?.length == UInt32(b.model.headerSize + frame.count))
        #expect(Array(UnsafeRawBufferPointer(start: b.buffer(0).virtual + b.model.headerSize, count: frame.count)) == frame)
        #expect(a.model.takeTransmitted().isEmpty)
        wire.disconnect()
    }
}
