import BillingCore
public import Journal
import Synchronization

/// What the engine counts for `/metrics` and the load generator: decisions, cutoffs and warnings, the time an
/// authorization takes inside the engine, and how long after its exact boundary each cutoff was emitted.
///
/// Times come from the engine's own clock, so under a manual clock they are what the test made them.
public final class EngineStats: Sendable {
    /// A snapshot of the counters and histograms.
    public struct Snapshot: Sendable, Hashable {
        public var authorizationsAllowed: Int64
        public var authorizationsDenied: Int64
        public var cutoffs: Int64
        public var warnings: Int64
        public var authorizeLatency: LatencyHistogram.Snapshot
        public var cutoffLateness: LatencyHistogram.Snapshot
    }

    private let allowed = Atomic<Int64>(0)
    private let denied = Atomic<Int64>(0)
    private let cutoffs = Atomic<Int64>(0)
    private let warnings = Atomic<Int64>(0)
    /// From entering `authorize` to its decision, µs.
    public let authorizeLatency = LatencyHistogram()
    /// From a cutoff's exact boundary to the moment the engine emitted it, µs.
    public let cutoffLateness = LatencyHistogram()

    public init() {}

    func recordDecision(allowed isAllowed: Bool, micros: Int64) {
        if isAllowed {
            allowed.add(1, ordering: .relaxed)
        } else {
            denied.add(1, ordering: .relaxed)
        }
        authorizeLatency.record(micros: micros)
    }

    /// Counts the cutoffs and warnings among `events`, which the engine emits at `nowMicros`.
    func recordEmitted(_ events: [BillingEvent], nowMicros: () -> Int64) {
        for event in events { recordEmitted(event, nowMicros: nowMicros) }
    }

    func recordEmitted(_ event: BillingEvent, nowMicros: () -> Int64) {
        switch event {
        case .cutoff(_, _, let boundary, _):
            cutoffs.add(1, ordering: .relaxed)
            cutoffLateness.record(micros: nowMicros() - boundary * 1000)
        case .warning:
            warnings.add(1, ordering: .relaxed)
        case .grantRenewed:
            break
        }
    }

    public func snapshot() -> Snapshot {
        Snapshot(authorizationsAllowed: allowed.load(ordering: .relaxed),
                 authorizationsDenied: denied.load(ordering: .relaxed),
                 cutoffs: cutoffs.load(ordering: .relaxed), warnings: warnings.load(ordering: .relaxed),
                 authorizeLatency: authorizeLatency.snapshot(), cutoffLateness: cutoffLateness.snapshot())
    }
}
