import Journal
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

    @Test("lateness as Prometheus buckets: cumulative, over the closed windows and the open one")
    func buckets() {
        let stats = TickStats()
        stats.record(latenessMicros: [40, 100, 9_000], nowMillis: 1_000)
        stats.record(latenessMicros: [2_000_000], nowMillis: 12_000)  // closes the first window, opens a second
        let buckets = stats.latenessBuckets(upperBoundsMicros: [50, 1_000, 10_000, 1_000_000])
        #expect(buckets.cumulativeCounts == [1, 2, 3, 3] && buckets.count == 4)
        // HdrHistogram keeps 3 significant digits: the sum is within that of 2,009,140 µs.
        #expect(abs(buckets.sumMicros - 2_009_140) <= 2_009_140 / 500)
        #expect(TickStats().latenessBuckets(upperBoundsMicros: [50]) == LatencyBuckets(
            upperBoundsMicros: [50], cumulativeCounts: [0], count: 0, sumMicros: 0))
    }

    @Test("a latency histogram's buckets count every sample at most each bound")
    func latencyHistogramBuckets() {
        let histogram = LatencyHistogram()
        histogram.record(micros: [0, 50, 51, 999, 1_000, 1_001, -5])
        let buckets = histogram.buckets(upperBoundsMicros: LatencyBuckets.defaultUpperBoundsMicros)
        #expect(buckets.count == 7)
        #expect(buckets.cumulativeCounts[0] == 3)  // 0, 50 and the negative sample (recorded as 0)
        #expect(buckets.cumulativeCounts[LatencyBuckets.defaultUpperBoundsMicros.firstIndex(of: 1_000)!] == 6)
        #expect(buckets.cumulativeCounts.last == 7)
        #expect(zip(buckets.cumulativeCounts, buckets.cumulativeCounts.dropFirst()).allSatisfy { $0 <= $1 })
    }
}
