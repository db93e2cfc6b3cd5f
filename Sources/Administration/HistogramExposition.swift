import Journal

/// Writes a histogram read from the engine's HdrHistograms (`LatencyBuckets`) in Prometheus's text format.
///
/// Why not swift-prometheus's own histogram: it takes one observation at a time under a lock, and these durations
/// are recorded where the engine is hottest (up to a million tick wakes a second in `concurrency`) into
/// HdrHistograms it already keeps. Their cumulative counts at a scrape are exactly a Prometheus histogram's
/// buckets, so the hot path pays nothing more. Everything else on `/metrics` is swift-prometheus's.
enum HistogramExposition {
    static func write(name: String, help: String, buckets: LatencyBuckets, into text: inout String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (bound, count) in zip(buckets.upperBoundsMicros, buckets.cumulativeCounts) {
            text += "\(name)_bucket{le=\"\(seconds(bound))\"} \(count)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(buckets.count)\n"
        text += "\(name)_sum \(seconds(buckets.sumMicros))\n"
        text += "\(name)_count \(buckets.count)\n"
    }

    /// µs as decimal seconds without floating point: 2500 → "0.0025", 10000000 → "10".
    static func seconds(_ micros: Int64) -> String {
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let whole = magnitude / 1_000_000
        var fraction = String(magnitude % 1_000_000)
        guard fraction != "0" else { return "\(sign)\(whole)" }
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(sign)\(whole).\(fraction)"
    }
}
