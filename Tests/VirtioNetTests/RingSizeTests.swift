import Testing
import UIO
import UIOSimulator
@testable import VirtioNet

@Suite struct RingSizeTests {
    @Test(arguments: [0, 1, 3, 100, 65536])
    func aRingSizeThatIsNotAPowerOfTwoIsRefusedWithTheFix(size: Int) {
        let error = #expect(throws: UIOError.self) { _ = try SplitVirtqueue(size: size, chainLength: 1, allocator: SimulatedDMA()) }
        #expect(error == .invalidRingSize(size, maximum: 32768))
        #expect(error?.description.contains("use a power of two such as 256") == true)
    }
}
