import Histogram
public import Journal
import Synchronization

/// Counts of the scheduler's work and HdrHistograms of tick lateness: how long after its due millisecond an
/// extension's work ran, in µs. Benchmarks and metrics read it.
///
/// Besides the figures since start, it keeps those of the last completed window of ``windowMillis`` of engine
/// time, so a load test can see lateness while it holds a load, apart from its ramp.
public final class TickStats: Sendable {
    /// A snapshot of the figures.
    public struct Snapshot: Sendable, Hashable {
        public var wakes: Int64
        public var latenessP50Micros: Int64
        public var latenessP99Micros: Int64
        public var latenessP999Micros: Int64
        public var latenessMaxMicros: Int64
        /// The last completed window (zero before the first one completes).
        public var windowP99Micros: Int64
        public var windowMaxMicros: Int64
        public var windowWakes: Int64
        /// Engine time the last completed window ended, ms since the epoch (0: none yet).
        public var windowEndMillis: Int64
    }

    public static let windowMillis: Int64 = 10_000

    private struct State {
        var wakes: Int64 = 0
        // Up to 10 minutes late at 3 significant digits. `histogram` holds the closed windows.
        var histogram = TickStats.makeHistogram()
        var window = TickStats.makeHistogram()
        var windowStart: Int64?
        var completed = (p99: Int64(0), max: Int64(0), wakes: Int64(0), end: Int64(0))
    }

    private static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Mutex(State())

    public init() {}

    /// Records a batch of lateness samples in µs (negative ones, woken early, count as 0), taken at engine time
    /// `nowMillis`.
    public func record(latenessMicros samples: [Int64], nowMillis: Int64) {
        guard !samples.isEmpty else { return }
        state.withLock { state in
            let start = state.windowStart ?? nowMillis
            if nowMillis - start >= Self.windowMillis {
                let w = state.window
                state.completed = (Int64(w.valueAtPercentile(99)), Int64(w.totalCount == 0 ? 0 : w.max),
                                   Int64(w.totalCount), start + Self.windowMillis)
                // Samples go into the window only (one record each on the tick path); the figures since start
                // take each window whole when it closes.
                state.histogram.add(w)
                state.window.reset()
                state.windowStart = nowMillis - (nowMillis - start) % Self.windowMillis
            } else if state.windowStart == nil {
                state.windowStart = nowMillis
            }
            for sample in samples { _ = state.window.record(UInt64(min(max(0, sample), 600_000_000))) }
            state.wakes += Int64(samples.count)
        }
    }

    /// Clears the figures (benchmarks reset after warm-up).
    public func reset() { state.withLock { $0 = State() } }

    /// Every wake's lateness since start as a Prometheus histogram's buckets.
    public func latenessBuckets(upperBoundsMicros bounds: [Int64]) -> LatencyBuckets {
        state.withLock { LatencyBuckets(bounds, from: [$0.histogram, $0.window]) }
    }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            var h = state.histogram
            h.add(state.window)
            return Snapshot(
                wakes: state.wakes, latenessP50Micros: Int64(h.valueAtPercentile(50)),
                latenessP99Micros: Int64(h.valueAtPercentile(99)), latenessP999Micros: Int64(h.valueAtPercentile(99.9)),
                latenessMaxMicros: Int64(h.totalCount == 0 ? 0 : h.max),
                windowP99Micros: state.completed.p99, windowMaxMicros: state.completed.max,
                windowWakes: state.completed.wakes, windowEndMillis: state.completed.end)
        }
    }
}
