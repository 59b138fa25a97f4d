import Testing
import UIO

@Suite struct PollTimeoutTests {
    @Test func durationsBecomeWholeMillisecondsAndNilWaitsForever() {
        #expect(Duration.milliseconds(1500).pollMilliseconds == 1500)
        #expect(Duration.microseconds(999).pollMilliseconds == 0)
        #expect(Duration.zero.pollMilliseconds == 0)
        #expect(Duration.seconds(10_000_000).pollMilliseconds == Int32.max)
        let forever: Duration? = nil
        #expect(forever.pollMilliseconds == -1)
        let some: Duration? = .milliseconds(100)
        #expect(some.pollMilliseconds == 100)
    }
}
