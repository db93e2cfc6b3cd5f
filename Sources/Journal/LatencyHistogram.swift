import Histogram
import Synchronization

/// A thread-safe HdrHistogram of durations in µs (up to 10 minutes at 3 significant digits).
public final class LatencyHistogram: Sendable {
    /// Percentiles of what was recorded, in µs.
    public struct Snapshot: Sendable, Hashable {
        public var count: Int64
        public var p50Micros: Int64
        public var p99Micros: Int64
        public var p999Micros: Int64
        public var maxMicros: Int64
    }

    static let highest: Int64 = 600_000_000
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: UInt64(highest),
                                                    numberOfSignificantValueDigits: .three))

    public init() {}

    /// Records one sample; a negative one counts as 0 and one beyond 10 minutes as 10 minutes.
    public func record(micros: Int64) {
        let value = UInt64(min(max(0, micros), Self.highest))
        histogram.withLock { _ = $0.record(value) }
    }

    /// Records many samples under one lock.
    public func record(micros samples: [Int64]) {
        guard !samples.isEmpty else { return }
        histogram.withLock { h in
            for sample in samples { _ = h.record(UInt64(min(max(0, sample), Self.highest))) }
        }
    }

    public func reset() { histogram.withLock { $0.reset() } }

    /// Everything recorded since start as a Prometheus histogram's buckets.
    public func buckets(upperBoundsMicros bounds: [Int64]) -> LatencyBuckets {
        histogram.withLock { LatencyBuckets(bounds, from: [$0]) }
    }

    public func snapshot() -> Snapshot {
        histogram.withLock { h in
            Snapshot(count: Int64(h.totalCount), p50Micros: Int64(h.valueAtPercentile(50)),
                     p99Micros: Int64(h.valueAtPercentile(99)), p999Micros: Int64(h.valueAtPercentile(99.9)),
                     maxMicros: Int64(h.totalCount == 0 ? 0 : h.max))
        }
    }
}
