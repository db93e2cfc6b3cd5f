import Synchronization

/// Counts of the scheduler's work and a histogram of tick lateness (how long after its due millisecond an
/// extension's charge work ran), for metrics and benchmarks.
public final class TickStats: Sendable {
    /// A snapshot of the figures.
    public struct Snapshot: Sendable, Hashable {
        public var wakes: Int64
        public var latenessP50Micros: Int64
        public var latenessP99Micros: Int64
        public var latenessMaxMicros: Int64
    }

    private struct State {
        var wakes: Int64 = 0
        /// Bucket i counts lateness in [2^(i-1), 2^i) µs (bucket 0: under 1 µs).
        var buckets = [Int64](repeating: 0, count: 40)
        var max: Int64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Records a batch of lateness samples in microseconds.
    public func record(latenessMicros samples: [Int64]) {
        guard !samples.isEmpty else { return }
        state.withLock { state in
            for sample in samples {
                let value = Swift.max(0, sample)
                let bucket = value == 0 ? 0 : Swift.min(39, 64 - value.leadingZeroBitCount)
                state.buckets[bucket] += 1
                state.max = Swift.max(state.max, value)
            }
            state.wakes += Int64(samples.count)
        }
    }

    /// Clears the histogram (benchmarks reset after warm-up).
    public func reset() { state.withLock { $0 = State() } }

    /// Current figures; percentiles are the upper bounds of their power-of-two buckets.
    public func snapshot() -> Snapshot {
        state.withLock { state in
            func percentile(_ p: Double) -> Int64 {
                let total = state.buckets.reduce(0, +)
                guard total > 0 else { return 0 }
                let rank = Int64((Double(total) * p).rounded(.up))
                var seen: Int64 = 0
                for (index, count) in state.buckets.enumerated() {
                    seen += count
                    if seen >= rank { return Swift.min(index == 0 ? 0 : Int64(1) << index, state.max) }
                }
                return state.max
            }
            return Snapshot(wakes: state.wakes, latenessP50Micros: percentile(0.5),
                            latenessP99Micros: percentile(0.99), latenessMaxMicros: state.max)
        }
    }
}
