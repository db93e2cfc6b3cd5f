import Journal
import ArgumentParser
import BillingCore
import Foundation
import Ledger
import Metering

/// Holds N answered calls with a 1-second billing unit on the real clock and reports tick lateness, CPU and
/// memory per live call.
struct LiveCallsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "live-calls",
        abstract: "Meter N live calls (1 s unit) on the real clock: tick lateness, CPU, bytes per call.")

    @Option(help: "Live calls to hold (1 to 2,000,000).") var calls = 100_000
    @Option(help: "Calls per extension.") var perExtension = 1
    @Option(help: "Seconds to hold after warm-up (1 to 600).") var hold = 20
    @Option(help: "Seconds of warm-up before measuring.") var warmup = 3
    @Flag(help: "Checkpoint into a real SQLite ledger instead of discarding.") var sqlite = false
    @Option(help: "Concurrent set-up workers (acknowledged changes share commits).") var workers = 64

    func validate() throws {
        guard (1...2_000_000).contains(calls), (1...600).contains(hold), (1...1000).contains(perExtension) else {
            throw ValidationError("out of range")
        }
    }

    func run() async throws {
        let rssStart = ProcessFigures.residentBytes()
        let journal: any BillingJournal
        var ledger: SQLiteLedger?
        if sqlite {
            let path = NSTemporaryDirectory() + "tollgate-bench-\(UUID().uuidString)/tollgate.sqlite"
            ledger = try SQLiteLedger(path: path)
            journal = ledger!
        } else {
            journal = DiscardingJournal()
        }
        let writer = ledger.map { ledger in Task { await ledger.run() } }
        let engine = MeteringEngine(clock: ContinuousClock(),
                                    originEpochMillis: Int64(Date().timeIntervalSince1970 * 1000), journal: journal)
        let eventCount = Task { var count = 0; for await _ in engine.events { count += 1 }; return count }
        let ticking = Task { try await engine.run() }
        let extensions = (calls + perExtension - 1) / perExtension
        let numbers = (0..<extensions).map { "7\($0)" }
        let setupStart = ProcessFigures.wallMicros()
        try await engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: Money(micros: 1_000), unit: 1),
                                           extensions: Set(numbers)))
        let rssBeforeCalls = ProcessFigures.residentBytes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            let workers = max(1, self.workers)
            for worker in 0..<workers {
                group.addTask {
                    var index = worker
                    while index < extensions {
                        let number = numbers[index]
                        try await engine.ensureExtension(number: number)
                        _ = try await engine.updateExtension(number: number, AccountChange(billingEnabled: true))
                        _ = try await engine.recharge(number: number, amount: Money(micros: 1_000_000_000),
                                                      operatorName: "bench")
                        for k in 0..<perExtension where index * perExtension + k < calls {
                            let id = "\(number)-\(k)"
                            _ = try await engine.authorize(callID: id, extensionNumber: number, dialled: "0123456789")
                            try await engine.answered(callID: id)
                        }
                        index += workers
                    }
                }
            }
            try await group.waitForAll()
        }
        let setupSeconds = Double(ProcessFigures.wallMicros() - setupStart) / 1e6
        let rssLive = ProcessFigures.residentBytes()
        try await Task.sleep(for: .seconds(warmup))
        engine.scheduler.stats.reset()
        let cpuStart = ProcessFigures.cpuMicros()
        let wallStart = ProcessFigures.wallMicros()
        try await Task.sleep(for: .seconds(hold))
        let cpu = ProcessFigures.cpuMicros() - cpuStart
        let wall = ProcessFigures.wallMicros() - wallStart
        let stats = engine.scheduler.stats.snapshot()
        let rssEnd = ProcessFigures.residentBytes()
        let live = await engine.liveCalls().count
        ticking.cancel()
        _ = try? await ticking.value
        let events = await eventCount.value
        if let ledger { try await ledger.close() }
        _ = await writer?.value

        print("""
            scenario: live-calls\(sqlite ? " (SQLite checkpoints)" : " (metering only)")
            live_calls: \(live) of \(calls) on \(extensions) extensions
            setup_s: \(String(format: "%.1f", setupSeconds))
            hold_s: \(hold)
            wakes: \(stats.wakes) (\(stats.wakes * 1_000_000 / max(wall, 1))/s)
            tick_lateness_p50_us: \(stats.latenessP50Micros)
            tick_lateness_p99_us: \(stats.latenessP99Micros)
            tick_lateness_p999_us: \(stats.latenessP999Micros)
            tick_lateness_max_us: \(stats.latenessMaxMicros)
            cpu_percent_of_one_core: \(cpu * 100 / max(wall, 1))
            rss_start_mb: \(rssStart >> 20)
            rss_live_mb: \(rssLive >> 20)
            rss_end_mb: \(rssEnd >> 20)
            bytes_per_live_call: \((rssLive - rssBeforeCalls) / Int64(calls)) (extension actors included)
            events: \(events)
            """)
    }
}
