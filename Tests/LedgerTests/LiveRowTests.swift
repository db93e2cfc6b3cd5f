import BillingCore
import GRDB
import Ledger
import Metering
import PropertyBased
import TestSupport
import Testing

/// A live call's row is written when a checkpoint carrying it is, and deleted with its settlement only if it was:
/// whichever comes first, none is left behind to come back as a phantom call after a restart.
@Suite("Ledger: live call rows")
struct LiveRowTests {
    private func liveRows(_ h: LedgerHarness) async throws -> [String] {
        try await h.ledger.pool.read { try String.fetchAll($0, sql: "SELECT call_id FROM live_calls ORDER BY call_id") }
    }

    @Test("a call settled before or after its row was written leaves no row; a live one keeps it across a restart")
    func noRowLeftBehind() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billedPerSecond("8001", balance: "1.00", rate: "0.01")

        // Written (once it has rung long enough), then settled.
        _ = try await h.engine.authorize(callID: "a", extensionNumber: "8001", dialled: "0100")
        await h.advance(ms: CallCharging.ringingStoreDelayMillis)
        try await h.ledger.flush()
        #expect(try await liveRows(h) == ["a"])
        _ = try await h.engine.ended(callID: "a", billableMillis: 0, cause: "NO_ANSWER")
        #expect(try await liveRows(h) == [])

        // Settled before its row was ever written: nothing to delete, nothing written.
        _ = try await h.engine.authorize(callID: "b", extensionNumber: "8001", dialled: "0100")
        _ = try await h.engine.ended(callID: "b", billableMillis: 0, cause: "NO_ANSWER")
        try await h.ledger.flush()
        #expect(try await liveRows(h) == [])

        // Live across a restart, then settled by the restarted engine: its row came from the file.
        try await h.answeredCall("c", from: "8001")
        await h.advance(ms: 2_000)
        let copy = try await h.crashAfterFlush()
        defer { copy.remove() }
        let restarted = try await LedgerHarness(directory: copy, origin: t0 + 2_000)
        #expect(try await liveRows(restarted) == ["c"])
        _ = await restarted.engine.adopt(callIDs: ["c"])
        _ = try await restarted.engine.ended(callID: "c", billableMillis: 2_000, cause: "NORMAL_CLEARING")
        try await restarted.ledger.flush()
        #expect(try await liveRows(restarted) == [])
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("a ringing call gets its row once it has rung for the delay, with no other change on its extension; an answered one at once")
    func ringingCallStoredAfterDelay() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("8001", balance: "1.00")
        try await h.billed("8002", balance: "1.00")
        try await h.perSecond("0.01", extensions: ["8001", "8002"])
        let delay = CallCharging.ringingStoreDelayMillis

        // Ringing, and a sibling ends meanwhile: the sibling's settlement does not carry the young call.
        _ = try await h.engine.authorize(callID: "r", extensionNumber: "8001", dialled: "0100")
        _ = try await h.engine.authorize(callID: "s", extensionNumber: "8001", dialled: "0100")
        await h.advance(ms: delay - 1)
        _ = try await h.engine.ended(callID: "s", billableMillis: 0, cause: "NO_ANSWER")
        try await h.ledger.flush()
        #expect(try await liveRows(h) == [])
        // Its delay is over: the extension's own wake-up stores it, nothing else happening.
        await h.advance(ms: 1)
        try await h.ledger.flush()
        #expect(try await liveRows(h) == ["r"])

        // Answered within the delay: stored with its answer.
        _ = try await h.engine.authorize(callID: "a", extensionNumber: "8002", dialled: "0100")
        try await h.engine.answered(callID: "a")
        try await h.ledger.flush()
        #expect(try await liveRows(h) == ["a", "r"])

        // After a restart both come back; a call that rang for less than the delay does not.
        _ = try await h.engine.authorize(callID: "y", extensionNumber: "8002", dialled: "0100")
        let copy = try await h.crashAfterFlush()
        defer { copy.remove() }
        let restarted = try await LedgerHarness(directory: copy, origin: t0 + delay)
        #expect(Set(await restarted.engine.liveCalls().map(\.callID)) == ["a", "r"])
        _ = try await restarted.engine.settleUnclaimed()
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("a call a crash lost while it rang comes back with its PBX's resync, answered as the PBX answered it")
    func lostRingingCallResynced() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billedPerSecond("8001", balance: "1.00", rate: "0.01")
        _ = try await h.engine.authorize(callID: "young", extensionNumber: "8001", dialled: "0100")
        await h.advance(ms: CallCharging.ringingStoreDelayMillis - 1)
        let copy = try await h.crashAfterFlush()
        defer { copy.remove() }
        #expect(try await liveRows(h) == [])

        // Restarted 2 s after the authorization; the PBX answered the call 1.5 s ago, while the engine was down.
        let restarted = try await LedgerHarness(directory: copy, origin: t0 + 2_000)
        #expect(await restarted.engine.liveCalls().isEmpty)
        let outcome = await restarted.engine.resync(
            [ClaimedCall(callID: "young", extensionNumber: "8001", dialled: "0100", answered: true,
                         answeredMillisAgo: 1_500)], route: nil)
        #expect(outcome.adopted == ["young"])
        try await restarted.ledger.flush()
        #expect(try await liveRows(restarted) == ["young"])
        await restarted.advance(ms: 2_000)
        guard case .settled(let record, _) = try await restarted.engine.ended(
            callID: "young", billableMillis: 3_500, cause: "NORMAL_CLEARING")
        else { Issue.record("not settled"); return }
        #expect(record.answeredAt == t0 + 500 && record.billableMillis == 3_500 && record.cost == money("0.04"))
        #expect(await restarted.engine.extensionAccount(number: "8001")?.balance == money("0.96"))
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("after a restart, the ids of calls settled before are still refused as new calls; a denied id is not")
    func endedIDsSurviveRestart() async throws {
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billedPerSecond("8001", balance: "1.00", rate: "0.01")
        try await h.answeredCall("done", from: "8001")
        await h.advance(ms: 2_000)
        _ = try await h.engine.ended(callID: "done", billableMillis: 2_000, cause: "NORMAL_CLEARING")
        _ = try await h.engine.authorize(callID: "rang", extensionNumber: "8001", dialled: "0100")
        _ = try await h.engine.ended(callID: "rang", billableMillis: 0, cause: "NO_ANSWER")
        _ = try await h.engine.authorize(callID: "no-rate", extensionNumber: "8001", dialled: "5555")
        let copy = try await h.crashAfterFlush()
        defer { copy.remove() }

        let restarted = try await LedgerHarness(directory: copy, origin: t0 + 10_000)
        for id in ["done", "rang"] {
            let refusal = await #expect(throws: TollgateError.self) {
                _ = try await restarted.engine.authorize(callID: id, extensionNumber: "8001", dialled: "0100")
            }
            #expect(refusal?.code == .alreadyExists)
            // Nor does a resync in the grace period bring it back.
            let claim = ClaimedCall(callID: id, extensionNumber: "8001", dialled: "0100", answered: false)
            #expect(await restarted.engine.resync([claim], route: nil).unknown == [id])
        }
        // A repeated End of a call settled before the restart is acknowledged and changes nothing.
        #expect(try await restarted.engine.ended(callID: "done", billableMillis: 2_000, cause: "x") == .alreadySettled)
        #expect(try await restarted.engine.authorize(callID: "no-rate", extensionNumber: "8001", dialled: "0100")
            .isAllowed)
        _ = try await restarted.engine.settleUnclaimed()
        try await restarted.close()
        #expect(try await restarted.ledger.verify() == [])
    }

    @Test("after a power cut at any point, no call whose end was acknowledged comes back live")
    func noPhantomAfterPowerCut() async {
        await propertyCheck(count: 40, input: LedgerPropertyTests.step.array(of: 10...60)) { steps in
            // A tiny batch limit: checkpoints wait and replace each other, as under heavy load.
            let h = try await LedgerHarness(checkpointsPerBatch: 1)
            defer { h.directory.remove() }
            let numbers = try await h.propertyExtensions(balance: "0.40")
            var acknowledgedEnds: Set<String> = []
            for step in steps {
                if case .end(let id, let ms) = step {
                    if (try? await h.engine.ended(callID: "c\(id)", billableMillis: ms, cause: "x")) != nil {
                        acknowledgedEnds.insert("c\(id)")
                    }
                } else {
                    try await LedgerPropertyTests.apply(step, to: h, numbers: numbers, rechargeUnit: 1_000)
                }
            }
            // No flush: the files as they are, with checkpoints still queued.
            let copy = try h.crashCopy()
            defer { copy.remove() }
            try await h.close()

            let restarted = try await LedgerHarness(directory: copy, origin: t0 + 10_000_000)
            let restored = Set(await restarted.engine.liveCalls().map(\.callID))
            #expect(restored.isDisjoint(with: acknowledgedEnds), "phantom calls: \(restored.intersection(acknowledgedEnds))")
            #expect(Set(try await liveRows(restarted)) == restored)
            _ = try await restarted.engine.settleUnclaimed()
            try await restarted.ledger.flush()
            #expect(try await liveRows(restarted) == [])
            try await restarted.close()
            #expect(try await restarted.ledger.verify() == [])
        }
    }
}
