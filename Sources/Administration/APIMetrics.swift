import Metering
package import Prometheus

/// The Prometheus registry behind `/metrics`: the API's own counters, and the engine's figures read at each
/// scrape (no global metrics system, so several engines can live in one test process).
package final class APIMetrics: Sendable {
    package let registry = PrometheusCollectorRegistry()
    package let loginFailures: Counter
    package let recharges: Counter
    private let liveCalls: Gauge
    private let extensions: Gauge
    private let wakes: Gauge
    private let latenessP50: Gauge
    private let latenessP99: Gauge
    private let latenessMax: Gauge
    private let windowP99: Gauge
    private let windowMax: Gauge
    private let windowEnd: Gauge
    private let batches: Gauge
    private let entries: Gauge
    private let checkpoints: Gauge
    private let commitSeconds: Gauge
    private let indexSteps: Gauge
    private let indexedCalls: Gauge
    private let indexSeconds: Gauge
    private let indexFailures: Gauge
    private let engineGauges: [(Gauge, @Sendable (EngineStats.Snapshot) -> Double)]

    package init() {
        loginFailures = registry.makeCounter(descriptor: .init(namespace: "tollgate", metricName: "login_failures", unitName: "total", helpText: "Failed sign-ins."))
        recharges = registry.makeCounter(descriptor: .init(namespace: "tollgate", metricName: "api_recharges", unitName: "total", helpText: "Recharges made through the API."))
        liveCalls = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "live_calls", unitName: "", helpText: "Calls authorized and not yet ended."))
        extensions = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "extensions", unitName: "", helpText: "Extensions known to the engine."))
        wakes = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "tick_wakes", unitName: "total", helpText: "Extension wake-ups run by the tick scheduler."))
        latenessP50 = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "tick_lateness_p50", unitName: "seconds", helpText: "Median tick lateness."))
        latenessP99 = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "tick_lateness_p99", unitName: "seconds", helpText: "99th percentile tick lateness."))
        latenessMax = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "tick_lateness_max", unitName: "seconds", helpText: "Largest tick lateness."))
        windowP99 = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "tick_lateness_window_p99", unitName: "seconds", helpText: "99th percentile tick lateness in the last completed 10-second window of engine time."))
        windowMax = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "tick_lateness_window_max", unitName: "seconds", helpText: "Largest tick lateness in the last completed 10-second window."))
        windowEnd = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "tick_lateness_window_end", unitName: "seconds", helpText: "When that window ended, seconds since the Unix epoch (0: none yet)."))
        batches = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_batches", unitName: "total", helpText: "Ledger transactions committed."))
        entries = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_entries", unitName: "total", helpText: "Journal entries committed."))
        checkpoints = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_checkpoints", unitName: "total", helpText: "Live-state checkpoints committed."))
        commitSeconds = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_commit_seconds", unitName: "total", helpText: "Time spent committing."))
        indexSteps = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_call_index_steps", unitName: "total", helpText: "Steps taken by the call log's per-extension indexer."))
        indexedCalls = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_call_index_calls", unitName: "total", helpText: "Calls added to the call log's per-extension index."))
        indexSeconds = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_call_index_seconds", unitName: "total", helpText: "Time spent extending the call log's per-extension index."))
        indexFailures = registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: "ledger_call_index_failures", unitName: "total", helpText: "Steps of the per-extension indexer that failed (each is tried again later)."))
        let registry = self.registry
        engineGauges = Self.engineFigures.map { figure in
            (registry.makeGauge(descriptor: .init(namespace: "tollgate", metricName: figure.name, unitName: figure.unit, helpText: figure.help)), figure.read)
        }
    }

    private struct EngineFigure {
        package var name: String
        package var unit: String
        package var help: String
        package var read: @Sendable (EngineStats.Snapshot) -> Double
    }

    private static func seconds(_ micros: Int64) -> Double { Double(micros) / 1_000_000 }

    private static let engineFigures: [EngineFigure] = [
        .init(name: "authorizations_allowed", unit: "total", help: "Calls authorized.") { Double($0.authorizationsAllowed) },
        .init(name: "authorizations_denied", unit: "total", help: "Calls refused.") { Double($0.authorizationsDenied) },
        .init(name: "cutoffs", unit: "total", help: "Cutoffs sent to PBXs.") { Double($0.cutoffs) },
        .init(name: "warnings", unit: "total", help: "Low-balance warnings sent to PBXs.") { Double($0.warnings) },
        .init(name: "authorize_latency_p50", unit: "seconds", help: "Median time to decide an authorization.") { seconds($0.authorizeLatency.p50Micros) },
        .init(name: "authorize_latency_p99", unit: "seconds", help: "99th percentile time to decide an authorization.") { seconds($0.authorizeLatency.p99Micros) },
        .init(name: "authorize_latency_max", unit: "seconds", help: "Longest time to decide an authorization.") { seconds($0.authorizeLatency.maxMicros) },
        .init(name: "cutoff_lateness_p50", unit: "seconds", help: "Median delay from a cutoff's exact boundary to its emission.") { seconds($0.cutoffLateness.p50Micros) },
        .init(name: "cutoff_lateness_p99", unit: "seconds", help: "99th percentile delay from a cutoff's exact boundary to its emission.") { seconds($0.cutoffLateness.p99Micros) },
        .init(name: "cutoff_lateness_max", unit: "seconds", help: "Longest delay from a cutoff's exact boundary to its emission.") { seconds($0.cutoffLateness.maxMicros) },
    ]

    /// The exposition text, with the engine's figures as of now.
    package func render(_ api: AdminOperations) async -> String {
        liveCalls.set(Int64(api.engine.liveCallCount))
        extensions.set(Int64(api.engine.extensionCount))
        let ticks = api.engine.scheduler.stats.snapshot()
        wakes.set(ticks.wakes)
        latenessP50.set(Double(ticks.latenessP50Micros) / 1_000_000)
        latenessP99.set(Double(ticks.latenessP99Micros) / 1_000_000)
        latenessMax.set(Double(ticks.latenessMaxMicros) / 1_000_000)
        windowP99.set(Double(ticks.windowP99Micros) / 1_000_000)
        windowMax.set(Double(ticks.windowMaxMicros) / 1_000_000)
        windowEnd.set(ticks.windowEndMillis / 1000)
        let engine = api.engine.stats.snapshot()
        for (gauge, read) in engineGauges { gauge.set(read(engine)) }
        let writer = await api.ledger.writerStats
        batches.set(writer.batches)
        entries.set(writer.entries)
        checkpoints.set(writer.checkpoints)
        commitSeconds.set(Double(writer.commitMicros) / 1_000_000)
        let index = api.ledger.callIndexStats
        indexSteps.set(index.steps)
        indexedCalls.set(index.calls)
        indexSeconds.set(Double(index.micros) / 1_000_000)
        indexFailures.set(index.failures)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
