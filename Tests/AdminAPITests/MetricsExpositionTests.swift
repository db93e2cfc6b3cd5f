@testable import Administration
import Journal
import Testing

@Suite("/metrics: histograms written from the engine's buckets")
struct MetricsExpositionTests {
    @Test("µs as decimal seconds, without floating point", arguments: [
        (Int64(0), "0"), (50, "0.00005"), (2_500, "0.0025"), (1_000_000, "1"), (10_000_000, "10"),
        (1_500_001, "1.500001"), (-250, "-0.00025"),
    ])
    func seconds(micros: Int64, text: String) {
        #expect(HistogramExposition.seconds(micros) == text)
    }

    @Test("a histogram family: buckets, +Inf, sum and count")
    func family() {
        var text = ""
        HistogramExposition.write(
            name: "tollgate_x_seconds", help: "X.",
            buckets: LatencyBuckets(upperBoundsMicros: [500, 1_000], cumulativeCounts: [2, 3], count: 4,
                                    sumMicros: 2_750_000),
            into: &text)
        #expect(text == """
            # HELP tollgate_x_seconds X.
            # TYPE tollgate_x_seconds histogram
            tollgate_x_seconds_bucket{le="0.0005"} 2
            tollgate_x_seconds_bucket{le="0.001"} 3
            tollgate_x_seconds_bucket{le="+Inf"} 4
            tollgate_x_seconds_sum 2.75
            tollgate_x_seconds_count 4

            """)
    }
}
