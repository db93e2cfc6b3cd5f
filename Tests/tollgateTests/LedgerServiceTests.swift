import BillingCore
import GRDB
import Ledger
import Metering
import Logging
import ServiceLifecycle
import TestSupport
import Testing
@testable import tollgate

@Suite("tollgate serve: the ledger service", .timeLimit(.minutes(1)))
struct LedgerServiceTests {
    /// Stands for the other services of `serve`: runs until the group stops it.
    struct Forever: Service {
        func run() async throws { try await gracefulShutdown() }
    }

    @Test("a failed commit (full disk) stops the whole server with the ledger's error, not a clean exit")
    func failedCommitStopsServe() async throws {
        let directory = try TemporaryDirectory("serve-ledger-failure")
        defer { directory.remove() }
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: directory.path))
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: LedgerService(ledger: ledger)), .init(service: Forever())],
            logger: Logger(label: "test")))
        let serving = Task { try await group.run() }
        let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: 1_700_000_000_000, journal: ledger,
            restoring: try await ledger.load())
        try await engine.setUpBilled("8001", balance: Money(micros: 1_000_000))
        // A file that may not grow: SQLITE_FULL, as on a full disk (see WriteFailureTests).
        try await ledger.pool.write { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        for attempt in 0..<5_000 {
            do {
                _ = try await engine.recharge(number: "8001", amount: Money(micros: 1), operatorName: "desk",
                                              note: String(repeating: "x", count: 500), idempotencyKey: "k\(attempt)")
            } catch {
                break
            }
        }
        await #expect(throws: LedgerError.self) { try await serving.value }
    }
}
