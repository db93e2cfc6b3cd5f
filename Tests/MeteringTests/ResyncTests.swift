import BillingCore
import Journal
@testable import Metering
import TestSupport
import Testing

/// design.md §11: a reconnecting PBX resyncs its live calls and the engine adopts them, including, after a restart,
/// the calls the restart lost.
@Suite("Metering engine: resync")
struct ResyncTests {
    private func claim(_ id: String, _ number: String = "8001", dialled: String = "0123", answeredAgo: Int64? = nil)
        -> ClaimedCall
    {
        ClaimedCall(callID: id, extensionNumber: number, dialled: dialled, answered: answeredAgo != nil,
                    answeredMillisAgo: answeredAgo ?? 0)
    }

    private func call(_ h: Harness, _ id: String) async throws -> CallCharging {
        try #require(await h.engine.liveCalls().first { $0.callID == id })
    }

    @Test("a ringing call the PBX answered while its connection was down is answered as of the PBX's answer")
    func answeredWhileDisconnected() async throws {
        let h = Harness()
        try await h.billedCall(balance: "1")
        await h.advance(ms: 3_000)
        // Answered 0.5 s after its authorization; the Answered never arrived.
        let outcome = await h.engine.resync([claim("c", answeredAgo: 2_500)], route: nil)
        #expect(outcome == ResyncOutcome(adopted: ["c"], unknown: []))
        #expect(try await call(h, "c").answeredAt == t0 + 500)
        // The charges at 0.5, 1.5 and 2.5 s fell due at once.
        #expect(await h.balance("8001") == money("0.94"))

        // An answer said to be older than the authorization starts at the authorization; a call already answered
        // keeps its answer.
        _ = try await h.engine.authorize(callID: "d", extensionNumber: "8001", dialled: "0123")
        await h.advance(ms: 1_000)
        _ = await h.engine.resync([claim("c", answeredAgo: 9_000), claim("d", answeredAgo: 60_000)], route: nil)
        #expect(try await call(h, "c").answeredAt == t0 + 500)
        #expect(try await call(h, "d").answeredAt == t0 + 3_000)
        // c: 0.5 to 3.5 s; d: 3 and 4 s.
        #expect(await h.balance("8001") == money("0.88"))
    }

    @Test("in the grace period after a restart, calls the restart lost are authorized again; refused ones are unknown")
    func lostCallsAfterRestart() async throws {
        let h = Harness()
        h.engine.restore([
            RestoredAccount(account: ExtensionAccount(number: "8001", billingEnabled: true, balance: money("0.05")),
                            calls: [], checkpointAt: t0),
            RestoredAccount(account: ExtensionAccount(number: "8002", billingEnabled: true, status: .locked,
                                                      balance: money("1")), calls: [], checkpointAt: t0),
        ])
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001", "8002"]))
        #expect(h.engine.acceptsLostCalls)
        await h.advance(ms: 10_000)
        var reader = EventReader(h.engine)

        let outcome = await h.engine.resync([
            claim("ringing"), claim("talking", answeredAgo: 5_000), claim("locked", "8002"),
            claim("bad", dialled: "12ab"), claim("nobody", "9999"), claim("absurd", answeredAgo: .max),
        ], route: nil)
        #expect(outcome.adopted == ["ringing", "talking"] && outcome.authorizedAgain == 2)
        #expect(outcome.unknown == ["locked", "bad", "nobody", "absurd"])
        #expect(try await call(h, "ringing").answeredAt == nil)

        // "talking" was answered 5 s ago: it paid at 5 and 6 s, and could not pay at 7 s. Its cutoff is at that
        // boundary, in the past.
        let talking = try await call(h, "talking")
        #expect(talking.authorizedAt == t0 + 5_000 && talking.answeredAt == t0 + 5_000)
        #expect(await reader.next(1, where: isCutoff)
            == [.cutoff(callID: "talking", extensionNumber: "8001", boundary: t0 + 7_000, reason: .insufficientFunds)])
        let settled = try await h.engine.ended(callID: "talking", billableMillis: 5_000, cause: "CUTOFF")
        guard case .settled(let record, _) = settled else { Issue.record("not settled"); return }
        #expect(record.billableMillis == 2_000 && record.cost == money("0.04") && record.result == .cutoff)

        // The refused call is logged as denied; nothing else was.
        let denied = h.journal.entries.compactMap { if case .denied(let record) = $0 { record } else { nil } }
        #expect(denied.map(\.callID) == ["locked"] && denied.first?.reason == DenyReason.locked.rawValue)

        // A settled call is not authorized again, and once the grace period is over nothing unknown is.
        #expect(await h.engine.resync([claim("talking", answeredAgo: 6_000)], route: nil).unknown == ["talking"])
        _ = try await h.engine.settleUnclaimed()
        #expect(!h.engine.acceptsLostCalls)
        #expect(await h.engine.resync([claim("late")], route: nil).unknown == ["late"])
        #expect(await h.engine.liveCalls().map(\.callID) == ["ringing"])
        #expect(await h.balance("8001") == money("0.01"))
    }

    @Test("a call cut while its PBX was away has its cutoff pushed again, counted once")
    func cutoffRepeated() async throws {
        let h = Harness()
        try await h.billedCall(balance: "0.03")
        try await h.engine.answered(callID: "c")
        var reader = EventReader(h.engine)
        await h.advance(ms: 1_500)
        let cut = BillingEvent.cutoff(callID: "c", extensionNumber: "8001", boundary: t0 + 1_000,
                                      reason: .insufficientFunds)
        #expect(await reader.next(1, where: isCutoff) == [cut])
        _ = await h.engine.resync([claim("c", answeredAgo: 1_500)], route: nil)
        #expect(await reader.next(1, where: isCutoff) == [cut])
        #expect(h.engine.stats.snapshot().cutoffs == 1)
    }

    @Test("after a resync an answered call's grant is pushed as the engine now has it, known or authorized again",
          .timeLimit(.minutes(1)))
    func grantRestated() async throws {
        func isGrant(_ event: BillingEvent) -> Bool { if case .grantRenewed = event { true } else { false } }
        let h = Harness()
        try await h.billedCall(balance: "0.50")
        try await h.engine.answered(callID: "c")
        await h.advance(ms: 2_000)
        var reader = EventReader(h.engine)
        _ = await h.engine.resync([claim("c", answeredAgo: 2_000)], route: nil)
        let known = try #require(try await call(h, "c").grantDeadline)
        #expect(await reader.next(1, where: isGrant)
            == [.grantRenewed(callID: "c", extensionNumber: "8001", deadline: known)])

        // Lost by a restart: the PBX holds the lost authorization's grant; the new one is pushed.
        let restarted = Harness()
        restarted.engine.restore([
            RestoredAccount(account: ExtensionAccount(number: "8001", billingEnabled: true, balance: money("0.10")),
                            calls: [], checkpointAt: t0),
        ])
        try await restarted.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        var lostReader = EventReader(restarted.engine)
        let outcome = await restarted.engine.resync([claim("lost", answeredAgo: 1_000)], route: nil)
        #expect(outcome.adopted == ["lost"])
        // 0.10 at 0.02 a second: 5 s from its answer, 1 s ago.
        #expect(await lostReader.next(1, where: isGrant)
            == [.grantRenewed(callID: "lost", extensionNumber: "8001", deadline: t0 - 1_000 + 5_000)])
    }

    @Test("a ringing call authorized again after a restart gets the engine's grant pushed when it is answered",
          .timeLimit(.minutes(1)))
    func ringingGrantRestatedAtAnswer() async throws {
        func isGrant(_ event: BillingEvent) -> Bool { if case .grantRenewed = event { true } else { false } }
        let h = Harness()
        h.engine.restore(["8001", "8002"].map {
            RestoredAccount(account: ExtensionAccount(number: $0, billingEnabled: true, balance: money("0.10")),
                            calls: [], checkpointAt: t0)
        })
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001", "8002"]))
        var reader = EventReader(h.engine)
        let outcome = await h.engine.resync([claim("ringing")], route: nil)
        #expect(outcome.adopted == ["ringing"] && outcome.authorizedAgain == 1)
        // A call authorized now is answered first: its grant came with its authorization, so nothing is pushed.
        _ = try await h.engine.authorize(callID: "fresh", extensionNumber: "8002", dialled: "0123")
        try await h.engine.answered(callID: "fresh")
        await h.advance(ms: 1_500)
        try await h.engine.answered(callID: "ringing")
        // 0.10 at 0.02 a second: 5 s from its answer, now.
        #expect(await reader.next(1, where: isGrant)
            == [.grantRenewed(callID: "ringing", extensionNumber: "8001", deadline: t0 + 1_500 + 5_000)])
        // Once: a repeated Answered pushes nothing more, and nothing is left remembered for the call.
        try await h.engine.answered(callID: "ringing")
        _ = try await h.engine.ended(callID: "ringing", billableMillis: 1_000, cause: "NORMAL")
        _ = await h.engine.resync([claim("ringing2")], route: nil)
        _ = try await h.engine.ended(callID: "ringing2", billableMillis: 0, cause: "NO_ANSWER")
        let actor = try #require(h.engine.registry.withLock { $0.accounts["8001"] })
        #expect(!h.engine.isLive(callID: "ringing2"))
        #expect(await actor.grantsToRestate.isEmpty)
    }

    @Test("an id claimed twice in one resync is one call, in the reply once")
    func duplicateClaims() async throws {
        let h = Harness()
        h.engine.restore([RestoredAccount(
            account: ExtensionAccount(number: "8001", billingEnabled: true, balance: money("1")), calls: [],
            checkpointAt: t0)])
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        _ = try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
        let outcome = await h.engine.resync([claim("c"), claim("lost"), claim("c"), claim("lost")], route: nil)
        #expect(outcome.adopted == ["c", "lost"] && outcome.unknown.isEmpty && outcome.authorizedAgain == 1)
    }

    @Test("an engine that was not restarted does not authorize unknown calls in a resync")
    func noLostCallsWithoutRestart() async throws {
        let h = Harness()
        try await h.billedCall(balance: "1")
        #expect(!h.engine.acceptsLostCalls)
        let outcome = await h.engine.resync([claim("c"), claim("x")], route: nil)
        #expect(outcome == ResyncOutcome(adopted: ["c"], unknown: ["x"]))
        #expect(!h.engine.isLive(callID: "x"))
    }
}
