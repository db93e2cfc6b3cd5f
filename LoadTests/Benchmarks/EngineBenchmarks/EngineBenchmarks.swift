import Journal
import Benchmark
import BillingCore
import Metering

/// A journal that acknowledges at once and keeps nothing: measures metering alone.
final class DiscardingJournal: BillingJournal {
    func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 { 0 }
    func checkpoint(_ checkpoint: AccountCheckpoint) {}
    func metered(through instant: Int64) {}
    func waitCommitted(_ sequence: UInt64) async throws {}
    func isResolved(_ sequence: UInt64) -> Bool { true }
    func recharge(idempotencyKey: String) async throws -> RechargeRecord? { nil }
}

/// 100,000 rates over random prefixes of 1-7 digits, a quarter with a number length, some in time blocks.
func makeRates(_ count: Int) -> [Rate] {
    var generator = SystemRandomNumberGenerator()
    return (1...count).map { id in
        let digits = Int.random(in: 1...7, using: &generator)
        let prefix = String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
        let tariff = try! Tariff(rate: Money(micros: Int64.random(in: 1...100_000, using: &generator)), unit: 60)
        return try! Rate(id: Int64(id), prefix: prefix, numberLength: id % 4 == 0 ? 11 : 0, tariff: tariff,
                         block: id % 5 == 0 ? try! TimeBlock(start: 8 * 3600, end: 20 * 3600) : .allDay,
                         extensions: ["8001", "8002"])
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(3)
    Benchmark.defaultConfiguration.maxIterations = 1_000_000

    let rates = makeRates(100_000)
    let numbers = (0..<4_096).map { _ in String((0..<11).map { _ in Character(String(Int.random(in: 0...9))) }) }

    Benchmark("RateTable.select, 100,000 rates", configuration: .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo)
    ) { (benchmark: Benchmark, table: RateTable) in
        for index in benchmark.scaledIterations {
            blackHole(table.select(extension: "8001", number: numbers[index & 4095], secondOfDay: 43_200))
        }
    } setup: {
        RateTable(rates: rates)
    }

    Benchmark("RateTable build, 100,000 rates", configuration: .init(
        metrics: [.wallClock, .peakMemoryResident], maxIterations: 20)
    ) { _ in
        blackHole(RateTable(rates: rates))
    }

    Benchmark("Tariff.cost", configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .mega)) {
        benchmark in
        let tariff = try! Tariff(initialCost: Money(micros: 300_000), initialTime: 60,
                                 rate: Money(micros: 50_000), unit: 30)
        for index in benchmark.scaledIterations { blackHole(try? tariff.cost(billableMillis: Int64(index))) }
    }

    Benchmark("authorize + answer + end through the actors", configuration: .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo)
    ) { (benchmark: Benchmark, engine: MeteringEngine) async throws in
        for index in benchmark.scaledIterations {
            let id = "b\(benchmark.currentIteration)-\(index)"
            let ext = "8\(index % 1000)"
            _ = try await engine.authorize(callID: id, extensionNumber: ext, dialled: "01234567890")
            try await engine.answered(callID: id)
            _ = try await engine.ended(callID: id, billableMillis: 30_000, cause: "NORMAL_CLEARING")
        }
    } setup: { () async throws -> MeteringEngine in
        let engine = MeteringEngine(clock: ContinuousClock(), originEpochMillis: 1_700_000_000_000,
                                    journal: DiscardingJournal())
        let exts = (0..<1000).map { "8\($0)" }
        for ext in exts {
            try await engine.ensureExtension(number: ext)
            _ = try await engine.updateExtension(number: ext, AccountChange(billingEnabled: true))
            _ = try await engine.recharge(number: ext, amount: Money(micros: 100_000_000_000), operatorName: "bench")
        }
        try await engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: Money(micros: 10_000), unit: 1),
                                           extensions: Set(exts)))
        // Nobody consumes events here; drain them so the stream does not grow.
        Task { for await _ in engine.events {} }
        return engine
    }
}
