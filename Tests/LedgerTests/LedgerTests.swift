import BillingCore
import Foundation
import GRDB
import GRDBSQLite
import Journal
import Ledger
import Metering
import TestSupport
import Testing

@Suite("Ledger: SQLite persistence, verify and crash recovery")
struct LedgerTests {
    @Test("balances, recharges, calls and rates survive a reopen; verify finds nothing")
    func roundTrip() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "1.00")
        try await h.engine.saveRate(try Rate(id: 1, remarks: "local", prefix: "0", numberLength: 0,
                                             tariff: Tariff(rate: money("0.02"), unit: 1),
                                             extensions: ["8001", "8002"]))
        try await h.engine.saveRate(try Rate(id: 2, prefix: "00", tariff: Tariff(rate: money("0.10"), unit: 60),
                                             block: TimeBlock(start: 3600, end: 7200), extensions: ["8001"]))
        try await h.engine.setTimeZone(TimeZone(identifier: "Europe/Paris")!)
        var policy = h.engine.policy
        policy.warningLeadMillis = 12_000
        try await h.engine.setPolicy(policy)
        _ = try await h.engine.authorize(callID: "c1", extensionNumber: "8001", dialled: "0123")
        try await h.engine.answered(callID: "c1")
        await h.advance(ms: 30_500)
        _ = try await h.engine.ended(callID: "c1", billableMillis: 30_500, cause: "NORMAL_CLEARING")
        _ = try await h.engine.updateExtension(number: "8001", AccountChange(status: .locked))
        #expect(try await h.engine.authorize(callID: "d1", extensionNumber: "8001", dialled: "0123") == .denied(.locked))
        try await h.close()
        #expect(try await h.ledger.verify() == [])

        let reopened = try await LedgerHarness(directory: h.directory)
        let account = try #require(await reopened.engine.extensionAccount(number: "8001"))
        // 30.5 s at 0.02 per started second: 31 units.
        #expect(account.balance == money("0.38") && account.billingEnabled && account.status == .locked && account.totalRecharges == money("1"))
        #expect(reopened.engine.rates.rates.count == 2)
        #expect(reopened.engine.rates.rates[1]?.extensions == ["8001", "8002"])
        #expect(reopened.engine.rates.rates[2]?.block == (try TimeBlock(start: 3600, end: 7200)))
        #expect(reopened.engine.policy.warningLeadMillis == 12_000)
        #expect(reopened.engine.timeZone.identifier == "Europe/Paris")
        let calls = try reopened.ledger.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT call_id, cost, result FROM calls ORDER BY call_id")
        }
        #expect(calls.map { $0["call_id"] as String } == ["c1", "d1"])
        #expect(calls.first?["cost"] == money("0.62").micros)
        try await reopened.close()
    }

    @Test("after a power cut: every acknowledged recharge and settlement is there, open calls come back")
    func crashRecovery() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "0.50")
        try await h.billed("8002", balance: "2.00")
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.02"), unit: 1),
                                             extensions: ["8001", "8002"]))
        _ = try await h.engine.recharge(number: "8001", amount: money("0.25"), operatorName: "desk",
                                        idempotencyKey: "r-1")
        _ = try await h.engine.authorize(callID: "done", extensionNumber: "8001", dialled: "0100")
        try await h.engine.answered(callID: "done")
        await h.advance(ms: 5_000)
        _ = try await h.engine.ended(callID: "done", billableMillis: 5_000, cause: "NORMAL_CLEARING")
        _ = try await h.engine.authorize(callID: "live", extensionNumber: "8002", dialled: "0100")
        try await h.engine.answered(callID: "live")
        await h.advance(ms: 10_000)
        try await h.ledger.flush()
        // The power goes: the files as they are now, no clean shutdown, no WAL checkpoint.
        let copy = try h.crashCopy()
        defer { copy.remove() }
        h.writer.cancel()

        let clock = ManualClock()
        let restarted = try await LedgerHarness(directory: copy, clock: clock, origin: t0 + 60_000)
        #expect(try await restarted.ledger.verify() == [])
        #expect(await restarted.engine.extensionAccount(number: "8001")?.balance == money("0.65"))
        let recharge = try await restarted.engine.recharge(number: "8001", amount: money("0.25"),
                                                           operatorName: "desk", idempotencyKey: "r-1")
        #expect(recharge.balanceAfter == money("0.75"))
        #expect(await restarted.engine.extensionAccount(number: "8001")?.balance == money("0.65"))
        #expect(restarted.engine.unclaimedCallIDs == ["live"])
        let live = try #require(await restarted.engine.liveCalls().first)
        #expect(live.callID == "live" && live.chargesMade == 11 && live.charged == money("0.22"))
        #expect(await restarted.engine.extensionAccount(number: "8002")?.balance == money("1.78"))

        // No PBX claims it within the grace period: settled from its last checkpoint, marked recovered.
        let records = try await restarted.engine.settleUnclaimed()
        #expect(records.map(\.result) == [.recovered])
        // Known alive up to exactly 10.000 s after answer: ten units; the one starting at 10 s is refunded.
        #expect(records.first?.cost == money("0.20"))
        #expect(await restarted.engine.extensionAccount(number: "8002")?.balance == money("1.80"))
        #expect(try await restarted.ledger.verify() == [])
        try await restarted.close()
    }

    @Test("a claimed call resumes metering after a restart")
    func adoptAfterRestart() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8002", balance: "1.00")
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.02"), unit: 1),
                                             extensions: ["8002"]))
        _ = try await h.engine.authorize(callID: "live", extensionNumber: "8002", dialled: "0100")
        try await h.engine.answered(callID: "live")
        await h.advance(ms: 3_000)
        try await h.close()

        let clock = ManualClock()
        let restarted = try await LedgerHarness(directory: h.directory, clock: clock, origin: t0 + 3_500)
        #expect(await restarted.engine.adopt(callIDs: ["live", "other"]) == ["live"])
        clock.advance(by: .milliseconds(2_000))
        await restarted.engine.scheduler.fireDue()
        let outcome = try await restarted.engine.ended(callID: "live", billableMillis: 5_500, cause: "NORMAL_CLEARING")
        guard case .settled(let record, _) = outcome else { Issue.record("not settled"); return }
        #expect(record.cost == money("0.12"))
        #expect(await restarted.engine.extensionAccount(number: "8002")?.balance == money("0.88"))
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("verify reports a tampered balance, a broken chain and a missing recharge")
    func verifyDetects() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "1.00")
        try await h.billed("8002", balance: "1.00")
        try await h.billed("8003", balance: "1.00")
        try await h.close()
        try await h.ledger.pool.write { db in
            try db.execute(sql: "UPDATE extensions SET balance = balance + 1 WHERE number = '8001'")
            try db.execute(sql: "UPDATE ledger SET balance_after = balance_after + 5 WHERE extension_number = '8002'")
            try db.execute(sql: "DELETE FROM recharges WHERE extension_number = '8003'")
        }
        let problems = try await h.ledger.verify()
        #expect(Set(problems.map(\.extensionNumber)) == ["8001", "8002", "8003"])
    }

    @Test("an End for a call that already settled writes nothing more")
    func duplicateSettlementIgnored() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "1.00")
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.02"), unit: 1),
                                             extensions: ["8001"]))
        _ = try await h.engine.authorize(callID: "x", extensionNumber: "8001", dialled: "01")
        try await h.engine.answered(callID: "x")
        await h.advance(ms: 1_500)
        _ = try await h.engine.ended(callID: "x", billableMillis: 1_500, cause: "OK")
        #expect(try await h.engine.ended(callID: "x", billableMillis: 1_500, cause: "OK") == .alreadySettled)
        try await h.ledger.flush()
        let count = try await h.ledger.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls") }
        #expect(count == 1)
        try await h.close()
    }
}

@Suite("Ledger: call log identity")
struct CallLogIdentityTests {
    @Test("a call denied, then authorized again under the same id after a recharge: both attempts are logged")
    func deniedThenSettled() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "0")
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.02"), unit: 1),
                                             extensions: ["8001"]))
        #expect(try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "01")
            == .denied(.insufficientFunds))
        _ = try await h.engine.recharge(number: "8001", amount: money("1"), operatorName: "desk")
        #expect(try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "01").isAllowed)
        try await h.engine.answered(callID: "c")
        await h.advance(ms: 2_000)
        _ = try await h.engine.ended(callID: "c", billableMillis: 2_000, cause: "NORMAL_CLEARING")
        // A late duplicate of the request is refused: the id belongs to a call that ended.
        await #expect(throws: TollgateError.self) {
            try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "99")
        }
        try await h.close()
        let log = try await h.ledger.calls(HistoryQuery())
        #expect(log.map(\.result) == [.completed, .denied])
        #expect(log.first?.cost == money("0.04"))
        #expect(try await h.ledger.verify() == [])
    }
}

@Suite("Ledger: batching under many live calls")
struct LedgerBatchingTests {
    @Test("with more dirty extensions than one batch takes, every commit still verifies and all land")
    func boundedBatches() async throws {
        let h = try await LedgerHarness(checkpointsPerBatch: 7)
        defer { h.directory.remove() }
        let numbers = (0..<300).map { "6\($0)" }
        for number in numbers { try await h.billed(number, balance: "1") }
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.01"), unit: 1),
                                             extensions: Set(numbers)))
        for number in numbers {
            _ = try await h.engine.authorize(callID: "c\(number)", extensionNumber: number, dialled: "01")
            try await h.engine.answered(callID: "c\(number)")
        }
        await h.advance(ms: 5_000)
        _ = try await h.engine.recharge(number: numbers[7], amount: money("2"), operatorName: "desk")
        _ = try await h.engine.ended(callID: "c\(numbers[9])", billableMillis: 5_000, cause: "OK")
        try await h.ledger.flush()
        #expect(try await h.ledger.verify() == [])
        let batches = await h.ledger.writerStats.batches
        #expect(batches > 300 / 7)
        // Ticks write no rows: what the open calls hold after 5 s is derived again from their checkpoints.
        let stored = try await h.ledger.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT SUM(charged) FROM live_calls")
        }
        #expect(stored == 298 * 10_000 + 60_000)
        try await h.close()
        let restarted = try await LedgerHarness(directory: h.directory, origin: t0 + 9_000)
        let held = await restarted.engine.liveCalls().reduce(0) { $0 + $1.charged.micros }
        #expect(held == 299 * 60_000)
        #expect(await restarted.engine.extensionAccount(number: numbers[0])?.balance == money("0.94"))
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("a flush commits everything queued, however many batches and rounds of the writer that takes")
    func flushTakesEveryRound() async throws {
        let directory = try TemporaryDirectory("ledger")
        defer { directory.remove() }
        // No run loop: only these flushes write, so what a flush leaves behind stays behind.
        let ledger = try SQLiteLedger(path: directory.file("tollgate.sqlite"), checkpointsPerBatch: 1)
        let accounts = (0..<40).map { ExtensionAccount(number: "7\($0)", billingEnabled: true, balance: money("1.5")) }
        var last: UInt64 = 0
        for account in accounts { last = ledger.append(.extensionSaved(account), checkpoint: nil) }
        let flushing = Task { try await ledger.flush() }
        // Whoever is told a commit is done finds it counted already (the bench and the metrics read these).
        try await ledger.waitCommitted(last)
        #expect(await ledger.writerStats.batches == 1)
        try await flushing.value
        let before = await ledger.writerStats.batches
        // One checkpoint per batch: forty batches, more than one round of the writer.
        for account in accounts { ledger.checkpoint(AccountCheckpoint(AccountBook(account: account), at: t0)) }
        try await ledger.flush()
        #expect(await ledger.writerStats.batches - before == 40)
        let total = try await ledger.pool.read { try Int64.fetchOne($0, sql: "SELECT SUM(balance) FROM extensions") }
        let expected: Int64 = 40 * 1_500_000
        #expect(total == expected)
        try await ledger.close()
    }

    @Test("SQLite's memory statistics are off once a ledger is open, unless SQLite was in use before it")
    func memoryStatisticsOff() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "1")
        var current: Int64 = -1
        var highest: Int64 = -1
        #expect(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &current, &highest, 0) == SQLITE_OK)
        // Which case this process is in depends on which test opened SQLite first; each has its own proof.
        if SQLiteLedger.tuneSQLite() == SQLITE_OK {
            #expect(current == 0)
        } else {
            #expect(SQLiteLedger.tuneSQLite() == SQLITE_MISUSE && current > 0)
        }
        try await h.close()
    }
}
