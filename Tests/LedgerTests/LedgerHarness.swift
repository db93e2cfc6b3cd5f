import BillingCore
import Foundation
import Ledger
import Metering
import TestSupport

let t0: Int64 = 1_700_000_000_000

func money(_ text: String) -> Money { try! Money(parsing: text) }

/// An engine on a manual clock over a real SQLite file, with its writer running.
final class LedgerHarness: Sendable {
    let directory: TemporaryDirectory
    let clock: ManualClock
    let ledger: SQLiteLedger
    let engine: MeteringEngine
    let writer: Task<Void, Never>

    init(directory: TemporaryDirectory? = nil, clock: ManualClock = ManualClock(), origin: Int64 = t0,
         checkpointsPerBatch: Int = 20_000) async throws {
        let directory = try directory ?? TemporaryDirectory("ledger")
        self.directory = directory
        self.clock = clock
        ledger = try SQLiteLedger(path: directory.file("tollgate.sqlite"), checkpointsPerBatch: checkpointsPerBatch)
        engine = MeteringEngine(clock: clock, originEpochMillis: origin, journal: ledger,
            restoring: try await ledger.load())
        let ledger = ledger
        writer = Task { await ledger.run() }
    }

    /// A billed prepaid extension with `balance` recharged.
    func billed(_ number: String, balance: String, credit: String = "0") async throws {
        try await engine.setUpBilled(number, balance: money(balance), credit: money(credit))
    }

    /// The property tests' extensions: four, each billed with `balance`, on rate 1 (0.05 for the first 3 s,
    /// then 0.03 per 2 s) for numbers starting with 0.
    func propertyExtensions(balance: String) async throws -> [String] {
        let numbers = ["8100", "8101", "8102", "8103"]
        for number in numbers { try await billed(number, balance: balance) }
        try await engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(
            initialCost: money("0.05"), initialTime: 3, rate: money("0.03"), unit: 2), extensions: Set(numbers)))
        return numbers
    }

    /// One billed extension with `balance`, on rate 1 at `rate` per 1-second unit.
    func billedPerSecond(_ number: String, balance: String, rate: String) async throws {
        try await billed(number, balance: balance)
        try await perSecond(rate, extensions: [number])
    }

    /// Rate 1: numbers starting with 0 at `rate` per 1-second unit, for `extensions`.
    func perSecond(_ rate: String, extensions: Set<String>) async throws {
        try await engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money(rate), unit: 1),
                                           extensions: extensions))
    }

    /// Authorizes and answers a call to 0100 now.
    func answeredCall(_ id: String, from number: String) async throws {
        _ = try await engine.authorize(callID: id, extensionNumber: number, dialled: "0100")
        try await engine.answered(callID: id)
    }

    /// Commits what is queued, copies the files as a power cut would leave them, and stops the writer.
    func crashAfterFlush() async throws -> TemporaryDirectory {
        try await ledger.flush()
        let copy = try crashCopy()
        writer.cancel()
        return copy
    }

    func advance(ms: Int64) async {
        clock.advance(by: .milliseconds(ms))
        await engine.scheduler.fireDue()
    }

    /// Copies the database files as they are on disk now, as a power cut would leave them.
    func crashCopy() throws -> TemporaryDirectory {
        let copy = try TemporaryDirectory("ledger-crash")
        for suffix in ["", "-wal"] {
            let source = directory.file("tollgate.sqlite" + suffix)
            if FileManager.default.fileExists(atPath: source) {
                try FileManager.default.copyItem(atPath: source, toPath: copy.file("tollgate.sqlite" + suffix))
            }
        }
        return copy
    }

    func close() async throws {
        try await ledger.close()
        await writer.value
    }
}
