import Journal
import ArgumentParser
import BillingCore
import CSQLite
import Foundation
import Ledger
import Metering

/// Settlements through the ledger's persistence actor, next to raw SQLite batched inserts of CDR-like rows
/// through the C API, in the same run, on the same disk, both `synchronous=FULL` in WAL mode.
struct LedgerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger",
        abstract: "Ledger settlement throughput next to a raw SQLite batched-insert baseline.")

    @Option(help: "Rows (settlements) per side (1,000 to 5,000,000).") var rows = 300_000
    @Option(help: "Rows per transaction for the raw baseline.") var batch = 1_000

    func validate() throws {
        guard (1_000...5_000_000).contains(rows), (1...100_000).contains(batch) else { throw ValidationError("out of range") }
    }

    func run() async throws {
        let directory = NSTemporaryDirectory() + "tollgate-ledger-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Both measured under the SQLite settings the ledger runs with (they apply to the whole process).
        SQLiteLedger.tuneSQLite()
        let baseline = try rawBaseline(path: directory + "/raw.sqlite")
        let (settlements, batches) = try await ledgerThroughput(path: directory + "/tollgate.sqlite")
        print("""
            scenario: ledger
            rows: \(rows)
            sqlite_baseline_rows_per_s: \(baseline) (C API, one prepared INSERT, \(batch) rows per transaction)
            ledger_rows_per_s: \(settlements) (settlements: CDR insert + ledger row + balance checkpoint, group-committed; these calls never had a live-call row to delete)
            ledger_batches: \(batches) (mean \(Int64(rows) / max(batches, 1)) settlements per transaction)
            ratio: \(String(format: "%.2f", Double(settlements) / Double(max(baseline, 1))))
            """)
    }

    private func rawBaseline(path: String) throws -> Int64 {
        var db: OpaquePointer?
        guard sqlite3_open(path, &db) == SQLITE_OK, let db else { throw ValidationError("cannot open \(path)") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) { sqlite3_exec(db, sql, nil, nil, nil) }
        exec("PRAGMA journal_mode = WAL")
        exec("PRAGMA synchronous = FULL")
        exec("PRAGMA cache_size = -65536")
        exec("""
            CREATE TABLE cdr (call_id TEXT PRIMARY KEY, extension_number TEXT, user_name TEXT, dialled TEXT,
                rate_id INTEGER, rate_prefix TEXT, initial_cost INTEGER, initial_time INTEGER, rate INTEGER,
                unit INTEGER, authorized_at INTEGER, answered_at INTEGER, ended_at INTEGER, billable_ms INTEGER,
                cost INTEGER, charged INTEGER, result TEXT, reason TEXT, balance_after INTEGER)
            """)
        var statement: OpaquePointer?
        sqlite3_prepare_v2(db, "INSERT INTO cdr VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let start = ProcessFigures.wallMicros()
        var index = 0
        while index < rows {
            exec("BEGIN")
            for _ in 0..<min(batch, rows - index) {
                let text: [(Int32, String)] = [(1, "call-\(index)"), (2, "7\(index % 1000)"), (3, "user"),
                                               (4, "0123456789"), (6, "0"), (17, "completed"), (18, "NORMAL_CLEARING")]
                for (column, value) in text { sqlite3_bind_text(statement, column, value, -1, transient) }
                for column: Int32 in [5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19] {
                    sqlite3_bind_int64(statement, column, Int64(index) + Int64(column))
                }
                sqlite3_step(statement)
                sqlite3_reset(statement)
                index += 1
            }
            exec("COMMIT")
        }
        let micros = ProcessFigures.wallMicros() - start
        return Int64(rows) * 1_000_000 / max(micros, 1)
    }

    private func ledgerThroughput(path: String) async throws -> (Int64, Int64) {
        let ledger = try SQLiteLedger(path: path)
        let writer = Task { await ledger.run() }
        let numbers = (0..<1000).map { "7\($0)" }
        var last: UInt64 = 0
        for number in numbers {
            last = ledger.append(.extensionSaved(ExtensionAccount(number: number, billingEnabled: true)), checkpoint: nil)
        }
        try await ledger.waitCommitted(last)
        let tariff = try Tariff(rate: Money(micros: 10_000), unit: 1)
        var balances = [Int64](repeating: 0, count: numbers.count)
        let before = await ledger.writerStats
        let start = ProcessFigures.wallMicros()
        for index in 0..<rows {
            let slot = index % numbers.count
            let cost = Money(micros: 300_000)
            balances[slot] -= cost.micros
            let record = CallRecord(
                callID: "call-\(index)", extensionNumber: numbers[slot], userName: "user", dialled: "0123456789",
                rate: RateSnapshot(rateID: 1, prefix: "0", tariff: tariff), authorizedAt: Int64(index),
                answeredAt: Int64(index), endedAt: Int64(index) + 30_000, billableMillis: 30_000, cost: cost,
                charged: cost, result: .completed, reason: "NORMAL_CLEARING", balanceAfter: Money(micros: balances[slot]))
            let posting = LedgerPosting(
                extensionNumber: numbers[slot], kind: .settlement, amount: Money(micros: -cost.micros),
                ledgerBalanceBefore: Money(micros: balances[slot] + cost.micros),
                ledgerBalanceAfter: Money(micros: balances[slot]), at: Int64(index), callID: record.callID)
            var checkpoint = AccountCheckpoint(AccountBook(account: ExtensionAccount(number: numbers[slot])), at: Int64(index))
            checkpoint.balance = Money(micros: balances[slot])
            last = ledger.append(.settled(record, posting), checkpoint: checkpoint)
            if index % 10_000 == 9_999 { await Task.yield() }
        }
        try await ledger.waitCommitted(last)
        let micros = ProcessFigures.wallMicros() - start
        let after = await ledger.writerStats
        try await ledger.close()
        await writer.value
        return (Int64(rows) * 1_000_000 / max(micros, 1), after.batches - before.batches)
    }
}
