import BillingCore
import GRDB
import Ledger
import Metering
import TestSupport
import Testing

/// design.md §11 when the disk is full: a commit that fails stops the writer, nothing after the last commit is
/// acknowledged, and what was acknowledged is all there after a restart.
@Suite("Ledger: a failed commit (full disk)", .timeLimit(.minutes(1)))
struct WriteFailureTests {
    @Test("a full disk stops the writer; every acknowledged recharge survives, and nothing else")
    func fullDisk() async throws {
        let h = try await LedgerHarness()
        try await h.billedPerSecond("8001", balance: "5", rate: "0.01")
        // SQLite refuses to grow the file past max_page_count with SQLITE_FULL, as a full disk does. It applies to
        // the connection that set it: the pool's one writer, which the persistence actor commits on.
        try await h.ledger.pool.write { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        var acknowledged = 0
        var failure: (any Error)?
        for attempt in 0..<5_000 {
            do {
                _ = try await h.engine.recharge(number: "8001", amount: money("1"), operatorName: "desk",
                                                note: String(repeating: "x", count: 500),
                                                idempotencyKey: "full-\(attempt)")
                acknowledged += 1
            } catch {
                failure = error
                break
            }
        }
        #expect(failure != nil, "the file never filled")
        #expect(acknowledged > 0)
        await h.writer.value
        guard case .writeFailed(let detail) = await h.ledger.writeFailure else {
            Issue.record("no write failure recorded")
            return
        }
        #expect(detail.contains("full"), "\(detail)")
        // Nothing further is acknowledged: a recharge, or a call's settlement, fails instead of being lost later.
        await #expect(throws: LedgerError.self) {
            try await h.engine.recharge(number: "8001", amount: money("1"), operatorName: "desk")
        }
        #expect(try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0100").isAllowed)
        await #expect(throws: LedgerError.self) {
            try await h.engine.ended(callID: "c", billableMillis: 0, cause: "NO_ANSWER")
        }

        // After a restart on the files as they are: the acknowledged recharges, exactly.
        let copy = try h.crashCopy()
        defer { copy.remove() }
        let restarted = try await LedgerHarness(directory: copy)
        #expect(await restarted.engine.extensionAccount(number: "8001")?.balance
            == Money(micros: Int64(5 + acknowledged) * 1_000_000))
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }
}
