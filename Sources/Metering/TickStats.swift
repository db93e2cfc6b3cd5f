import Histogram
import Synchronization

/// Counts of the scheduler's work and an HdrHistogram of tick lateness: how long after its due millisecond an
/// extension's work ran, in µs. Benchmarks and metrics read it.
public final class TickStats: Sendable {
    /// A snapshot of the figures.
    public struct Snapshot: Sendable, Hashable {
        public var wakes: Int64
        public var latenessP50Micros: Int64
        public var latenessP99Micros: Int64
        public var latenessP999Micros: Int64
        public var latenessMaxMicros: Int64
    }

    private struct State {
        var wakes: Int64 = 0
        // Up to 10 minutes late at 3 significant digits.
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Mutex(State())

    public init() {}

    /// Records a batch of lateness samples in µs (negative ones, woken early, count as 0).
    public func record(latenessMicros samples: [Int64]) {
        guard !samples.isEmpty else { return }
        state.withLock { state in
            for sample in samples {
                _ = state.histogram.record(UInt64(min(max(0, sample), 600_000_000)))
            }
            state.wakes += Int64(samples.count)
        }
    }

    /// Clears the figures (benchmarks reset after warm-up).
    public func reset() { state.withLock { $0 = State() } }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            let h = state.histogram
            return Snapshot(
                wakes: state.wakes, latenessP50Micros: Int64(h.valueAtPercentile(50)),
                latenessP99Micros: Int64(h.valueAtPercentile(99)), latenessP999Micros: Int64(h.valueAtPercentile(99.9)),
                latenessMaxMicros: Int64(h.totalCount == 0 ? 0 : h.max))
        }
    }
}
