import ArgumentParser
import BillingCore
import Foundation
import Ledger
import Metering

/// `tollgate seed`: writes a small fixture into a new ledger, for the C client's tests and for trying `serve`
/// by hand until the admin API exists.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Write a test fixture (extensions 8101/8102/8103/8301/8401, rate 0… at 0.02 per second, 2-second grants) into a new ledger.")

    @Option(name: .customLong("data-dir"), help: "A data directory without a ledger yet.")
    var dataDirectory: String

    func run() async throws {
        let path = SQLiteLedger.path(dataDirectory: dataDirectory)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(path) exists: seed only writes into a new ledger")
        }
        let ledger = try SQLiteLedger(path: path)
        let writer = Task { await ledger.run() }
        let engine = MeteringEngine(
            clock: ContinuousClock(), originEpochMillis: Int64(Date().timeIntervalSince1970 * 1000), journal: ledger,
            restoring: try await ledger.load())
        var policy = engine.policy
        policy.warningLeadMillis = 1_000
        policy.grantValidityMillis = 2_000
        try await engine.setPolicy(policy)
        let fixture: [(String, String, AccountChange, Int64)] = [
            ("8101", "Room 101", AccountChange(billingEnabled: true), 50_000),
            ("8102", "Room 102", AccountChange(billingEnabled: true), 100_000_000),
            // A trunk with money for thousands of calls at once (the C client's grant table and shared mode).
            ("8103", "Trunk", AccountChange(billingEnabled: true), 100_000_000_000),
            ("8301", "Lobby", AccountChange(status: .locked, billingEnabled: true), 1_000_000),
            ("8401", "Staff", AccountChange(billingEnabled: false), 0),
        ]
        for (number, name, change, balance) in fixture {
            try await engine.ensureExtension(number: number, userName: name)
            _ = try await engine.updateExtension(number: number, change)
            if balance > 0 {
                _ = try await engine.recharge(number: number, amount: Money(micros: balance), operatorName: "seed")
            }
        }
        try await engine.saveRate(try Rate(id: 1, remarks: "seed", prefix: "0", tariff: Tariff(
            rate: Money(micros: 20_000), unit: 1), extensions: ["8101", "8102", "8103", "8301"]))
        try await ledger.close()
        await writer.value
        print("seeded \(path)")
    }
}
