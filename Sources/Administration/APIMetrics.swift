import Foundation
import Journal
import Metering
package import Prometheus
import Synchronization

/// The Prometheus registry behind `/metrics`: counters as counters, gauges as gauges, durations as histograms,
/// the build, the license and the process. The engine's and the ledger's figures are read at each scrape (no
/// global metrics system, so several engines can live in one test process).
package final class APIMetrics: Sendable {
    package let registry = PrometheusCollectorRegistry()
    package let loginFailures: Counter
    package let recharges: Counter
    private let liveCalls: Gauge
    private let extensions: Gauge
    private let pbxConnections: Gauge
    private let windowP99: Gauge
    private let windowMax: Gauge
    private let windowEnd: Gauge
    private let writeFailed: Gauge
    private let billingEnabled: Gauge
    private let licensed: Gauge
    private let trialEnds: Gauge
    private let process: (cpu: Counter, resident: Gauge, virtual: Gauge, fds: Gauge, maxFDs: Gauge, start: Gauge,
                          threads: Gauge)
    /// Counters read as totals from the engine and the ledger, set at each scrape (under `scrape`, so two scrapes
    /// at once never show a counter going back).
    private let totals: [Total]
    /// Serializes scrapes: each sets the read counters to their totals, then emits.
    private let scrape = Mutex(())

    /// A counter and how to read its total.
    struct Total: Sendable {
        let counter: Counter
        let read: @Sendable (Figures) -> Double
        init(_ counter: Counter, _ read: @escaping @Sendable (Figures) -> Double) {
            self.counter = counter
            self.read = read
        }
    }

    /// What one scrape reads before it updates the registry.
    struct Figures: Sendable {
        var engine: EngineStats.Snapshot
        var ticks: TickStats.Snapshot
        var writer: (batches: Int64, entries: Int64, checkpoints: Int64, commitMicros: Int64)
        var index: (steps: Int64, calls: Int64, micros: Int64, failures: Int64)
    }

    package init(version: String) {
        let registry = self.registry
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: Self.descriptor("tollgate_\(name)", help), labels: labels)
        }
        func gauge(_ name: String, _ help: String) -> Gauge { registry.makeGauge(descriptor: Self.descriptor(name, help)) }
        loginFailures = counter("login_failures_total", "Failed sign-ins.")
        recharges = counter("api_recharges_total", "Recharges made through the API.")
        liveCalls = gauge("tollgate_live_calls", "Calls authorized and not yet ended.")
        extensions = gauge("tollgate_extensions", "Extensions known to the engine.")
        pbxConnections = gauge("tollgate_pbx_connections", "PBX connections open (each PBX node keeps one).")
        windowP99 = gauge("tollgate_tick_lateness_window_p99_seconds",
                          "99th percentile tick lateness in the last completed 10-second window of engine time.")
        windowMax = gauge("tollgate_tick_lateness_window_max_seconds",
                          "Largest tick lateness in the last completed 10-second window.")
        windowEnd = gauge("tollgate_tick_lateness_window_end_seconds",
                          "When that window ended, seconds since the Unix epoch (0: none yet).")
        writeFailed = gauge("tollgate_ledger_write_failed",
                            "1 once a ledger commit has failed: nothing more is acknowledged until serve restarts.")
        billingEnabled = gauge("tollgate_billing_enabled", "1 while billing is on.")
        licensed = gauge("tollgate_licensed", "1 once a license is installed (billing never expires).")
        trialEnds = gauge("tollgate_trial_end_timestamp_seconds",
                          "When the trial ends, seconds since the Unix epoch (0: not activated, or licensed).")
        registry.makeGauge(descriptor: Self.descriptor("tollgate_build_info", "The running build; always 1."),
                           labels: [("version", version)]).set(Int64(1))
        process = (
            registry.makeCounter(descriptor: Self.descriptor("process_cpu_seconds_total",
                                                             "CPU time used, user and system, seconds.")),
            gauge("process_resident_memory_bytes", "Resident memory."),
            gauge("process_virtual_memory_bytes", "Virtual memory."),
            gauge("process_open_fds", "Open file descriptors (sockets included)."),
            gauge("process_max_fds", "The limit of open file descriptors."),
            gauge("process_start_time_seconds", "When the process started, seconds since the Unix epoch."),
            gauge("process_threads", "Threads of the process."))
        totals = [
            Total(counter("authorizations_total", "Authorization decisions.", [("decision", "allowed")]),
             { Double($0.engine.authorizationsAllowed) }),
            Total(counter("authorizations_total", "Authorization decisions.", [("decision", "denied")]),
             { Double($0.engine.authorizationsDenied) }),
            Total(counter("cutoffs_total", "Cutoffs sent to PBXs."), { Double($0.engine.cutoffs) }),
            Total(counter("warnings_total", "Low-balance warnings sent to PBXs."), { Double($0.engine.warnings) }),
            Total(counter("tick_wakes_total", "Extension wake-ups run by the tick scheduler."), { Double($0.ticks.wakes) }),
            Total(counter("ledger_batches_total", "Ledger transactions committed."), { Double($0.writer.batches) }),
            Total(counter("ledger_entries_total", "Journal entries committed."), { Double($0.writer.entries) }),
            Total(counter("ledger_checkpoints_total", "Live-state checkpoints committed."), { Double($0.writer.checkpoints) }),
            Total(counter("ledger_commit_seconds_total", "Time spent committing."), { Self.seconds($0.writer.commitMicros) }),
            Total(counter("ledger_call_index_steps_total", "Steps taken by the call log's per-extension indexer."),
             { Double($0.index.steps) }),
            Total(counter("ledger_call_index_calls_total", "Calls added to the call log's per-extension index."),
             { Double($0.index.calls) }),
            Total(counter("ledger_call_index_seconds_total", "Time spent extending the call log's per-extension index."),
             { Self.seconds($0.index.micros) }),
            Total(counter("ledger_call_index_failures_total",
                     "Steps of the per-extension indexer that failed (each is tried again later)."),
             { Double($0.index.failures) }),
        ]
    }

    private static func seconds(_ micros: Int64) -> Double { Double(micros) / 1_000_000 }

    /// A metric's whole name (we spell names out, units included) and its help.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Counts one answered HTTP request under its route pattern (never the raw path, whose ids would make a
    /// series per extension), method and status.
    package func httpRequest(route: String, method: String, status: Int, nanoseconds: Int64) {
        registry.makeCounter(
            descriptor: Self.descriptor("tollgate_http_requests_total",
                                        "HTTP requests answered, by route pattern, method and status."),
            labels: [("route", route), ("method", method), ("status", "\(status)")]).increment()
        registry.makeDurationHistogram(
            descriptor: Self.descriptor("tollgate_http_request_duration_seconds",
                                        "Time to answer an HTTP request, by route pattern and method."),
            labels: [("route", route), ("method", method)], buckets: Self.httpBuckets)
            .recordNanoseconds(nanoseconds)
    }

    private static let httpBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2),
        .seconds(10),
    ]

    /// The exposition text, with the engine's figures as of now.
    package func render(_ api: AdminOperations) async -> String {
        let figures = Figures(engine: api.engine.stats.snapshot(), ticks: api.engine.scheduler.stats.snapshot(),
                              writer: await api.ledger.writerStats, index: api.ledger.callIndexStats)
        let failure = await api.ledger.writeFailure
        let status = api.activation.status(billingEnabled: api.engine.policy.billingActive, now: api.engine.nowMillis())
        let processFigures = ProcessFigures.read()
        let bounds = LatencyBuckets.defaultUpperBoundsMicros
        let histograms = [
            ("tollgate_authorize_duration_seconds", "Time the engine takes to decide an authorization.",
             api.engine.stats.authorizeLatency.buckets(upperBoundsMicros: bounds)),
            ("tollgate_cutoff_lateness_seconds", "Delay from a cutoff's exact boundary to its emission.",
             api.engine.stats.cutoffLateness.buckets(upperBoundsMicros: bounds)),
            ("tollgate_tick_lateness_seconds", "Delay from a tick's due millisecond to its wake.",
             api.engine.scheduler.stats.latenessBuckets(upperBoundsMicros: bounds)),
            ("tollgate_ledger_commit_duration_seconds", "Time one ledger transaction takes to commit.",
             api.ledger.commitLatency.buckets(upperBoundsMicros: bounds)),
        ]
        return scrape.withLock { _ in
            liveCalls.set(Int64(api.engine.liveCallCount))
            extensions.set(Int64(api.engine.extensionCount))
            pbxConnections.set(Int64(api.configuration.pbxConnections()))
            windowP99.set(Double(figures.ticks.windowP99Micros) / 1_000_000)
            windowMax.set(Double(figures.ticks.windowMaxMicros) / 1_000_000)
            windowEnd.set(Int64(figures.ticks.windowEndMillis / 1000))
            writeFailed.set(Int64(failure == nil ? 0 : 1))
            billingEnabled.set(Int64(status.billingEnabled ? 1 : 0))
            licensed.set(Int64(status.licensed ? 1 : 0))
            trialEnds.set(Int64(status.licensed ? 0 : (status.trialEndsAt ?? 0) / 1000))
            for total in totals {
                total.counter.reset()
                total.counter.increment(by: total.read(figures))
            }
            process.cpu.reset()
            process.cpu.increment(by: processFigures.cpuSeconds)
            process.resident.set(processFigures.residentBytes)
            process.virtual.set(processFigures.virtualBytes)
            process.fds.set(processFigures.openFDs)
            process.maxFDs.set(processFigures.maxFDs)
            process.start.set(processFigures.startTimeSeconds)
            process.threads.set(processFigures.threads)
            var text = registry.emitToString()
            for (name, help, buckets) in histograms {
                HistogramExposition.write(name: name, help: help, buckets: buckets, into: &text)
            }
            return text
        }
    }
}
