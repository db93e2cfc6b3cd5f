import BillingCore
import Ledger
import Metering
import PropertyBased
import TestSupport
import Testing

/// Paid charges are not checkpointed; recovery re-derives them up to the last instant the engine was known
/// metering. These tests hold the derivation to what the engine itself did.
@Suite("Ledger: charges re-derived at recovery")
struct DerivedChargesTests {
    struct LiveState: Equatable, CustomStringConvertible {
        var callID: String
        var answeredAt: Int64?
        var chargesMade: Int64
        var charged: Money
        var cutAt: Int64?

        init(_ call: CallCharging) {
            callID = call.callID
            answeredAt = call.answeredAt
            chargesMade = call.chargesMade
            charged = call.charged
            cutAt = call.cutAt
        }

        var description: String { "\(callID): \(chargesMade) charges, \(charged), cut \(cutAt.map(String.init) ?? "-")" }
    }

    @Test("after a power cut, every balance and open call is what the engine had at its last metered instant")
    func restoredEqualsEngine() async {
        await propertyCheck(count: 40, input: LedgerPropertyTests.step.array(of: 10...60)) { steps in
            let h = try await LedgerHarness(checkpointsPerBatch: 2)
            defer { h.directory.remove() }
            let numbers = try await h.propertyExtensions(balance: "0.40")
            for step in steps {
                try await LedgerPropertyTests.apply(step, to: h, numbers: numbers, rechargeUnit: 1_000)
            }
            // Reading catches every extension up to now (charges of well-funded extensions are taken in
            // batches, and calls ringing for the delay are stored), and the engine reports metering through now.
            // A call that has rung for less than the delay was never stored: a power cut loses it, and no money
            // moved for it.
            let now = h.engine.nowMillis()
            let engineCalls = await h.engine.liveCalls()
                .filter { $0.isAnswered || $0.authorizedAt + CallCharging.ringingStoreDelayMillis <= now }
                .map(LiveState.init)
            let engineBalances = await h.engine.extensionAccounts().map(\.balance)
            try await h.ledger.flush()
            let copy = try h.crashCopy()
            defer { copy.remove() }
            try await h.close()

            let restarted = try await LedgerHarness(directory: copy, origin: t0 + 10_000_000)
            #expect(await restarted.engine.liveCalls().map(LiveState.init) == engineCalls)
            #expect(await restarted.engine.extensionAccounts().map(\.balance) == engineBalances)
            try await restarted.close()
            #expect(try await restarted.ledger.verify() == [])
        }
    }

    @Test("a call whose money ran out after its checkpoint comes back cut at the exact boundary")
    func derivedCut() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billedPerSecond("8001", balance: "0.05", rate: "0.01")
        try await h.answeredCall("a", from: "8001")
        // Charges at 1…4 s are paid and not written; the one at 5 s cannot be paid: the call is cut at 5 s.
        await h.advance(ms: 4_000)
        let copy = try await h.crashAfterFlush()
        defer { copy.remove() }

        let restarted = try await LedgerHarness(directory: copy, origin: t0 + 60_000)
        let call = try #require(await restarted.engine.liveCalls().first)
        #expect(call.chargesMade == 5 && call.charged == money("0.05") && call.cutAt == nil)
        #expect(await restarted.engine.extensionAccount(number: "8001")?.balance == .zero)
        let records = try await restarted.engine.settleUnclaimed()
        #expect(records.first?.cost == money("0.04"))
        #expect(records.first?.billableMillis == 4_000)
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("a call cut between checkpoints is cut at its boundary after a restart")
    func cutBeforeCrash() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "0.03")
        try await h.billed("8002", balance: "1.00")
        try await h.perSecond("0.01", extensions: ["8001", "8002"])
        try await h.answeredCall("a", from: "8001")
        try await h.answeredCall("b", from: "8002")
        await h.advance(ms: 7_000)
        let copy = try await h.crashAfterFlush()
        defer { copy.remove() }

        let restarted = try await LedgerHarness(directory: copy, origin: t0 + 60_000)
        let calls = await restarted.engine.liveCalls()
        #expect(calls.map(\.cutAt) == [t0 + 3_000, nil])
        #expect(calls.map(\.charged) == [money("0.03"), money("0.08")])
        let records = try await restarted.engine.settleUnclaimed()
        #expect(records.map(\.cost) == [money("0.03"), money("0.07")])
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("restarting twice before any PBX claims a call does not bill the time in between")
    func secondRestart() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billedPerSecond("8001", balance: "1.00", rate: "0.01")
        try await h.answeredCall("a", from: "8001")
        await h.advance(ms: 3_000)
        try await h.close()

        // First restart: the call is suspended, last known live at 3 s. Another extension keeps ticking for a
        // minute, so the engine's metered instant moves far past that.
        let clock = ManualClock()
        let first = try await LedgerHarness(directory: h.directory, clock: clock, origin: t0 + 10_000)
        try await first.billed("8002", balance: "5.00")
        try await first.perSecond("0.01", extensions: ["8001", "8002"])
        try await first.answeredCall("b", from: "8002")
        try await first.answeredCall("c", from: "8001")
        await first.advance(ms: 60_000)
        try await first.close()

        let second = try await LedgerHarness(directory: h.directory, origin: t0 + 200_000)
        #expect(second.engine.unclaimedCallIDs == ["a", "b", "c"])
        let records = try await second.engine.settleUnclaimed()
        // a: 3 s as before; b and c: the minute the first restart metered them.
        #expect(records.map(\.billableMillis) == [3_000, 60_000, 60_000])
        #expect(records.map(\.cost) == [money("0.03"), money("0.60"), money("0.60")])
        #expect(await second.engine.extensionAccount(number: "8001")?.balance == money("0.37"))
        try await second.close()
        #expect(try await second.ledger.verify() == [])
    }

    @Test("a call whose billing was switched off stays unbilled from then on after a restart")
    func billingStoppedSurvives() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billedPerSecond("8001", balance: "1.00", rate: "0.01")
        try await h.answeredCall("a", from: "8001")
        await h.advance(ms: 2_000)
        _ = try await h.engine.updateExtension(number: "8001", AccountChange(billingEnabled: false))
        await h.advance(ms: 5_000)
        try await h.close()

        let restarted = try await LedgerHarness(directory: h.directory, origin: t0 + 8_000)
        #expect(await restarted.engine.adopt(callIDs: ["a"]) == ["a"])
        let outcome = try await restarted.engine.ended(callID: "a", billableMillis: 8_000, cause: "NORMAL_CLEARING")
        guard case .settled(let record, _) = outcome else { Issue.record("not settled"); return }
        #expect(record.billableMillis == 2_000)
        #expect(record.cost == money("0.02"))
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("a stored metered instant ahead of the clock is not billed past now")
    func meteredAheadOfClock() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billedPerSecond("8001", balance: "1.00", rate: "0.01")
        try await h.answeredCall("a", from: "8001")
        await h.advance(ms: 3_000)
        try await h.close()
        // The clock was set back, or the file damaged: the ledger claims metering reached 1,000 s after answer.
        try await h.ledger.pool.write { db in
            try db.execute(sql: "UPDATE engine_state SET metered_through = ?", arguments: [t0 + 1_000_000])
        }

        let restarted = try await LedgerHarness(directory: h.directory, origin: t0 + 10_000)
        let call = try #require(await restarted.engine.liveCalls().first)
        #expect(call.chargesMade == 11 && call.suspendedAt == t0 + 10_000)
        let records = try await restarted.engine.settleUnclaimed()
        #expect(records.map(\.billableMillis) == [10_000])
        #expect(records.map(\.cost) == [money("0.10")])
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }
}
