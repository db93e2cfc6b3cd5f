import Metering
import Testing
import TestSupport

/// Engine time is the injected clock's elapsed time added to the epoch instant pinned at start.
@Suite("Engine time")
struct EngineTimeTests {
    @Test("a manual clock's elapsed time, in ms and µs since the epoch, truncated to the unit")
    func manualClock() {
        let clock = ManualClock()
        let time = EngineTime(clock: clock, originEpochMillis: 1_700_000_000_000)
        #expect(time.nowMillis() == 1_700_000_000_000)
        clock.advance(by: .microseconds(2_999))
        #expect(time.nowMillis() == 1_700_000_000_002)
        #expect(time.nowMicros() == 1_700_000_000_002_999)
        clock.advance(by: .seconds(86_400))
        #expect(time.nowMillis() == 1_700_086_400_002)
    }

    /// `serve` runs on `ContinuousClock`, read directly rather than through the generic clock: the reading
    /// must fall between two readings of the same clock taken around it, in the right unit.
    @Test("ContinuousClock, read directly, agrees with the clock read around it")
    func continuousClock() {
        let clock = ContinuousClock()
        let beforeInit = clock.now
        let time = EngineTime(clock: clock, originEpochMillis: 5_000)
        let afterInit = clock.now
        let before = clock.now
        let micros = time.nowMicros()
        let millis = time.nowMillis()
        let after = clock.now
        let elapsed = micros - 5_000_000
        #expect(elapsed >= Self.micros(before - afterInit))
        #expect(elapsed <= Self.micros(after - beforeInit))
        #expect(millis >= micros / 1000)
        #expect(millis <= 5_000 + Self.micros(after - beforeInit) / 1000)
    }

    private static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
