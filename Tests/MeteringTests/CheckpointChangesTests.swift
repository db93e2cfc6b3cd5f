import BillingCore
import Journal
import Metering
import Synchronization
import TestSupport
import Testing

/// Records every checkpoint as the engine hands it over, before any merging.
final class RecordingJournal: BillingJournal {
    let memory = MemoryJournal()
    private let taken = Mutex<[AccountCheckpoint]>([])

    var checkpoints: [AccountCheckpoint] { taken.withLock { $0 } }
    func clear() { taken.withLock { $0.removeAll() } }

    func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 {
        if let checkpoint { taken.withLock { $0.append(checkpoint) } }
        return memory.append(entry, checkpoint: checkpoint)
    }

    func checkpoint(_ checkpoint: AccountCheckpoint) {
        taken.withLock { $0.append(checkpoint) }
        memory.checkpoint(checkpoint)
    }

    func metered(through instant: Int64) { memory.metered(through: instant) }
    func waitCommitted(_ sequence: UInt64) async throws {}
    func isResolved(_ sequence: UInt64) -> Bool { true }
    func recharge(idempotencyKey: String) async throws -> RechargeRecord? {
        try await memory.recharge(idempotencyKey: idempotencyKey)
    }
}

@Suite("Checkpoints carry only what changed", .timeLimit(.minutes(1)))
struct CheckpointChangesTests {
    let clock = ManualClock()
    let journal = RecordingJournal()
    let engine: MeteringEngine

    init() {
        engine = MeteringEngine(clock: clock, originEpochMillis: t0, journal: journal, policy: BillingPolicy())
    }

    private func advance(ms: Int64) async {
        clock.advance(by: .milliseconds(ms))
        await engine.scheduler.fireDue()
    }

    /// 8001 with 0.50 at 0.01 a second, and the checkpoints of that set-up forgotten.
    private func billedWithNothingTaken() async throws {
        try await engine.setUpBilled("8001", balance: money("0.50"), credit: .zero)
        try await engine.saveRate(perSecond("0.01", exts: ["8001"]))
        journal.clear()
    }

    /// The ids of the calls each checkpoint since the last `clear()` carried, and whether the balance moved.
    private func taken() -> [([String], Bool)] {
        journal.checkpoints.map { ($0.calls.map(\.callID), $0.balanceChanged) }
    }

    @Test("a new call waits for the next change or its ringing delay; the balance row only when money moved; paid charges ride the next one")
    func changedCallsOnly() async throws {
        try await billedWithNothingTaken()

        // Ringing is no change of its own (``CallCharging/ringingStoreDelayMillis``).
        _ = try await engine.authorize(callID: "A", extensionNumber: "8001", dialled: "0123")
        #expect(taken().isEmpty)

        journal.clear()
        try await engine.answered(callID: "A")
        // The answer charge is paid at once: the call and the balance changed.
        #expect(taken().map(\.0) == [["A"]])
        #expect(taken().map(\.1) == [true])

        journal.clear()
        // Still far from a cutoff, the charges are paid without a checkpoint…
        for _ in 0..<3 { await advance(ms: 1_000) }
        #expect(taken().isEmpty)
        // …a new call is no change either…
        _ = try await engine.authorize(callID: "B", extensionNumber: "8001", dialled: "0123")
        #expect(taken().isEmpty)
        // …until it has rung for the delay: that checkpoint carries it, the call that paid, and the balance.
        await advance(ms: CallCharging.ringingStoreDelayMillis - 1)
        #expect(taken().isEmpty)
        await advance(ms: 1)
        #expect(taken().map(\.0) == [["A", "B"]])
        #expect(taken().map(\.1) == [true])
        let a = try #require(journal.checkpoints.last?.calls.first)
        #expect(a.chargesMade == 5 && a.charged == money("0.05"))

        journal.clear()
        // An unanswered call ends at no cost: no call and no balance to rewrite, only its row to delete.
        _ = try await engine.ended(callID: "B", billableMillis: 0, cause: "NO_ANSWER")
        #expect(taken().map(\.0) == [[]])
        #expect(taken().map(\.1) == [false])
    }

    @Test("a call ended while ringing within its delay, never stored, queues its record and no checkpoint; a sibling's change still rides along")
    func unstoredEndNeedsNoCheckpoint() async throws {
        try await billedWithNothingTaken()

        _ = try await engine.authorize(callID: "C", extensionNumber: "8001", dialled: "0123")
        _ = try await engine.ended(callID: "C", billableMillis: 0, cause: "NO_ANSWER")
        #expect(journal.checkpoints.isEmpty)
        #expect(journal.memory.settlements.map(\.callID) == ["C"])

        // Another call of the extension changed meanwhile (answered and paid): the settlement carries it.
        _ = try await engine.authorize(callID: "D", extensionNumber: "8001", dialled: "0123")
        _ = try await engine.authorize(callID: "E", extensionNumber: "8001", dialled: "0123")
        try await engine.answered(callID: "D")
        journal.clear()
        await advance(ms: 500)
        _ = try await engine.ended(callID: "E", billableMillis: 0, cause: "NO_ANSWER")
        #expect(taken().map(\.0) == [])
        // The balance moved with D's answer charge, checkpointed then; a later charge makes the settlement carry D.
        await advance(ms: 600)
        _ = try await engine.authorize(callID: "F", extensionNumber: "8001", dialled: "0123")
        _ = try await engine.ended(callID: "F", billableMillis: 0, cause: "NO_ANSWER")
        #expect(taken().map(\.0) == [["D"]])
        #expect(taken().map(\.1) == [true])
    }

    @Test("a pending checkpoint replaced by a later one keeps its changes, except the call that ended")
    func absorb() throws {
        let tariff = try Tariff(rate: money("0.01"), unit: 1)
        let rate = RateSnapshot(rateID: 1, prefix: "0", tariff: tariff)
        func call(_ id: String) -> LiveCallCheckpoint {
            LiveCallCheckpoint(CallCharging(callID: id, extensionNumber: "8001", dialled: "0123", rate: rate,
                                            unbilledReason: nil, authorizedAt: t0))
        }
        var book = AccountBook(account: ExtensionAccount(number: "8001"))
        var older = AccountCheckpoint(changesOf: &book, balanceChanged: true, at: t0)
        older.calls = [call("A"), call("B"), call("C")]
        var newer = AccountCheckpoint(changesOf: &book, balanceChanged: false, at: t0 + 10)
        var answeredB = call("B")
        answeredB.answeredAt = t0 + 5
        newer.calls = [answeredB]

        var merged = newer
        merged.absorb(older, ended: "C")
        #expect(merged.calls.map(\.callID) == ["A", "B"])
        #expect(merged.calls.last?.answeredAt == t0 + 5)
        #expect(merged.balanceChanged && merged.at == t0 + 10)

        // A trunk's many calls take the hashed path, with the same result.
        var manyOlder = older
        manyOlder.calls = (0..<30).map { call("T\($0)") }
        var manyNewer = newer
        manyNewer.calls = (10..<30).map { call("T\($0)") }
        manyNewer.absorb(manyOlder, ended: "T0")
        #expect(manyNewer.calls.map(\.callID) == (1..<10).map { "T\($0)" } + (10..<30).map { "T\($0)" })

        var unchanged = AccountCheckpoint(changesOf: &book, balanceChanged: false, at: t0 + 20)
        unchanged.absorb(AccountCheckpoint(changesOf: &book, balanceChanged: false, at: t0 + 15))
        #expect(unchanged.calls.isEmpty && !unchanged.balanceChanged)
    }
}
