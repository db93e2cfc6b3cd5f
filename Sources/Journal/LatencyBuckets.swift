package import Histogram

/// Durations as a Prometheus histogram carries them: how many were at most each upper bound (cumulative), how
/// many in all, and their sum. Read from HdrHistograms at a scrape, so recording a duration stays one HdrHistogram
/// increment on the hot path (a tick wake, an authorization) and Prometheus can still window and aggregate.
public struct LatencyBuckets: Sendable, Hashable {
    /// Ascending, µs.
    public var upperBoundsMicros: [Int64]
    /// Samples at most each bound, in the same order.
    public var cumulativeCounts: [Int64]
    public var count: Int64
    /// Within HdrHistogram's precision (3 significant digits).
    public var sumMicros: Int64

    public init(upperBoundsMicros: [Int64], cumulativeCounts: [Int64], count: Int64, sumMicros: Int64) {
        self.upperBoundsMicros = upperBoundsMicros
        self.cumulativeCounts = cumulativeCounts
        self.count = count
        self.sumMicros = sumMicros
    }

    /// The buckets of several histograms together (a tick histogram's closed windows and its open one).
    package init(_ bounds: [Int64], from histograms: [Histogram<UInt64>]) {
        upperBoundsMicros = bounds
        cumulativeCounts = bounds.map { bound in
            histograms.reduce(0) { $0 + Int64($1.count(within: 0...UInt64(max(0, bound)))) }
        }
        count = histograms.reduce(0) { $0 + Int64($1.totalCount) }
        sumMicros = histograms.reduce(0) { $0 + Int64(($1.mean * Double($1.totalCount)).rounded()) }
    }

    /// 50 µs to 10 s: fine where the engine's durations lie (tenths of a millisecond to a few milliseconds), so
    /// a quantile read from them (`histogram_quantile`) is within a bucket's width of the exact one.
    public static let defaultUpperBoundsMicros: [Int64] = [
        50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000,
        50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 10_000_000,
    ]
}
