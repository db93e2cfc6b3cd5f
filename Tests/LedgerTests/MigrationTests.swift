import BillingCore
import Foundation
import GRDB
@testable import Ledger
import Metering
import TestSupport
import Testing

@Suite("Ledger: schema migrations keep the data")
struct MigrationTests {
    @Test("v3 (plain rowids for the call log and the ledger) keeps every row and id, and ids go on after them")
    func v3KeepsRows() async throws {
        let directory = try TemporaryDirectory("migration")
        defer { directory.remove() }
        let path = directory.file("tollgate.sqlite")
        // A ledger as the previous release left it: one recharge of 1.00 and a call that cost 0.20.
        do {
            let old = try DatabaseQueue(path: path)
            try LedgerSchema.migrator.migrate(old, upTo: "v2-admin-users")
            try await old.write { db in
                try db.execute(sql: """
                    INSERT INTO extensions (number, user_name, billing_enabled, balance, total_recharges)
                        VALUES ('8001', 'Room 1', 1, 800000, 1000000);
                    INSERT INTO recharges (id, extension_number, user_name, kind, amount, balance_before, balance_after,
                        at, operator, note) VALUES (5, '8001', 'Room 1', 'recharge', 1000000, 0, 1000000, 1, 'desk', '');
                    INSERT INTO ledger (id, extension_number, kind, amount, balance_before, balance_after, at, call_id)
                        VALUES (7, '8001', 'recharge', 1000000, 0, 1000000, 1, NULL),
                               (9, '8001', 'settlement', -200000, 1000000, 800000, 2, 'c1');
                    INSERT INTO calls (id, call_id, extension_number, user_name, dialled, authorized_at, answered_at,
                        ended_at, billable_ms, cost, charged, result, reason, balance_after)
                        VALUES (3, 'c1', '8001', 'Room 1', '0123', 1, 1, 2, 10000, 200000, 200000, 'completed',
                                'NORMAL_CLEARING', 800000);
                    """)
            }
        }
        let ledger = try SQLiteLedger(path: path)
        let writer = Task { await ledger.run() }
        #expect(try await ledger.verify() == [])
        let (callIDs, ledgerIDs, autoincrement) = try await ledger.pool.read { db in
            (try Int64.fetchAll(db, sql: "SELECT id FROM calls"), try Int64.fetchAll(db, sql: "SELECT id FROM ledger ORDER BY id"),
             try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE name IN ('calls', 'ledger')")
                .filter { $0.contains("AUTOINCREMENT") }.count)
        }
        #expect(callIDs == [3] && ledgerIDs == [7, 9] && autoincrement == 0)
        // The engine restores the balance and goes on; new rows take the next ids.
        let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: 1_700_000_000_000, journal: ledger,
            restoring: try await ledger.load())
        #expect(await engine.extensionAccount(number: "8001")?.balance == Money(micros: 800_000))
        _ = try await engine.recharge(number: "8001", amount: Money(micros: 500_000), operatorName: "desk")
        #expect(try await ledger.pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM ledger ORDER BY id") } == [7, 9, 10])
        #expect(try await ledger.verify() == [])
        try await ledger.close()
        await writer.value
    }

    @Test("v4 (derived charges): an open call of an older ledger comes back as checkpointed, known live until then")
    func v4KeepsOpenCalls() async throws {
        let directory = try TemporaryDirectory("migration")
        defer { directory.remove() }
        let path = directory.file("tollgate.sqlite")
        let t: Int64 = 1_700_000_000_000
        // A v3 ledger whose last checkpoint (at t + 5 s) had a call answered at t with 6 charges of 0.01 taken.
        do {
            let old = try DatabaseQueue(path: path)
            try LedgerSchema.migrator.migrate(old, upTo: "v3-call-log-rowids")
            try await old.write { db in
                try db.execute(sql: """
                    INSERT INTO extensions (number, user_name, billing_enabled, balance, total_recharges, checkpoint_at)
                        VALUES ('8001', 'Room 1', 1, 940000, 1000000, \(t + 5_000));
                    INSERT INTO ledger (id, extension_number, kind, amount, balance_before, balance_after, at)
                        VALUES (1, '8001', 'recharge', 1000000, 0, 1000000, \(t));
                    INSERT INTO recharges (extension_number, user_name, kind, amount, balance_before, balance_after,
                        at, operator, note) VALUES ('8001', 'Room 1', 'recharge', 1000000, 0, 1000000, \(t), 'desk', '');
                    INSERT INTO live_calls (call_id, extension_number, dialled, rate_id, rate_prefix, initial_cost,
                        initial_time, rate, unit, authorized_at, answered_at, charges_made, charged)
                        VALUES ('c1', '8001', '0100', 1, '0', 0, 0, 10000, 1, \(t), \(t), 6, 60000);
                    """)
            }
        }
        let ledger = try SQLiteLedger(path: path)
        let writer = Task { await ledger.run() }
        #expect(try await ledger.verify() == [])
        let metered = try await ledger.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT metered_through FROM engine_state")
        }
        #expect(metered == t + 5_000)
        let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: t + 60_000, journal: ledger,
            restoring: try await ledger.load())
        let call = try #require(await engine.liveCalls().first)
        #expect(call.chargesMade == 6 && call.suspendedAt == t + 5_000)
        let records = try await engine.settleUnclaimed()
        #expect(records.map(\.billableMillis) == [5_000])
        #expect(records.map(\.cost) == [Money(micros: 50_000)])
        #expect(await engine.extensionAccount(number: "8001")?.balance == Money(micros: 950_000))
        try await ledger.close()
        await writer.value
        #expect(try await ledger.verify() == [])
    }

    @Test("v5 (the per-extension index in a file of its own): the old index goes, the new one takes every call")
    func v5IndexesTheLog() async throws {
        let directory = try TemporaryDirectory("migration")
        defer { directory.remove() }
        let path = directory.file("tollgate.sqlite")
        // A v4 call log of 300 calls over three extensions, with the per-extension SQLite index.
        do {
            let old = try DatabaseQueue(path: path)
            try LedgerSchema.migrator.migrate(old, upTo: "v4-derived-charges")
            try await old.write { db in
                for number in ["8001", "8002", "8003"] {
                    try db.execute(sql: "INSERT INTO extensions (number, billing_enabled) VALUES (?, 1)", arguments: [number])
                }
                for id in 1...300 {
                    try db.execute(sql: """
                        INSERT INTO calls (id, call_id, extension_number, user_name, dialled, authorized_at, ended_at,
                            billable_ms, cost, charged, result, reason, balance_after)
                            VALUES (?, ?, ?, '', '0100', ?, ?, 0, 0, 0, 'unanswered', 'NO_ANSWER', 0)
                        """, arguments: [id, "c\(id)", "800\(id % 3 + 1)", Int64(1_000 * id), Int64(1_000 * id + 10)])
                }
            }
        }
        // A step larger than the log: only the migration's count can have it indexed at once.
        let ledger = try SQLiteLedger(path: path, callIndexStep: 100)
        let writer = Task { await ledger.run() }
        await ledger.callIndexCaughtUp()
        let (oldIndex, indexed, ledgerID) = try await ledger.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE name = 'calls_by_extension_time'"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM call_index.calls_by_extension"),
             try String.fetchOne(db, sql: "SELECT ledger_id FROM engine_state"))
        }
        #expect(oldIndex == 0 && indexed == 300 && ledgerID?.count == 32)
        #expect(try await ledger.verify() == [])
        let newest = try await ledger.calls(HistoryQuery(extensionNumber: "8002", limit: 2))
        #expect(newest.map(\.callID) == ["c298", "c295"])
        #expect(try await ledger.callCount(HistoryQuery(from: 100_000, to: 200_000, extensionNumber: "8001")) == 33)
        try await ledger.close()
        await writer.value
    }
}
