import Metering
import Testing

@Suite("Tick statistics: since start and per 10-second window")
struct TickStatsTests {
    @Test("a window's figures appear once it completes; the next window starts clean")
    func windows() {
        let stats = TickStats()
        stats.record(latenessMicros: [100, 200, 9_000], nowMillis: 1_000)
        stats.record(latenessMicros: [300], nowMillis: 6_000)
        #expect(stats.snapshot().windowEndMillis == 0)
        // 10 s after the first sample, the first window closes: its worst was 9 ms.
        stats.record(latenessMicros: [50], nowMillis: 11_000)
        var snapshot = stats.snapshot()
        #expect(snapshot.windowEndMillis == 11_000 && snapshot.windowWakes == 4)
        #expect((8_990...9_010).contains(snapshot.windowMaxMicros))
        #expect(snapshot.wakes == 5 && (8_990...9_010).contains(snapshot.latenessMaxMicros))
        // The second window saw only the 50 µs sample; a long gap closes it at its own 10-second boundary.
        stats.record(latenessMicros: [70], nowMillis: 35_500)
        snapshot = stats.snapshot()
        #expect(snapshot.windowEndMillis == 21_000 && snapshot.windowWakes == 1 && snapshot.windowMaxMicros == 50)
    }
}
