import BillingCore
import Foundation
import Journal
@testable import Metering
import TestSupport
import Testing

@Suite("Metering engine: actors, scheduler, events", .timeLimit(.minutes(1)))
struct MeteringEngineTests {
    @Test("design.md §5 example through the actors and the wheel: cutoffs at 1.0 s and 1.5 s")
    func workedExample() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "0.05")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        var reader = EventReader(h.engine)
        #expect(try await h.engine.authorize(callID: "A", extensionNumber: "8001", dialled: "0123").isAllowed)
        #expect(try await h.engine.authorize(callID: "B", extensionNumber: "8001", dialled: "0123").isAllowed)
        try await h.engine.answered(callID: "A")
        await h.advance(ms: 500)
        try await h.engine.answered(callID: "B")
        for _ in 0..<20 { await h.advance(ms: 100) }
        let cutoffs = await reader.next(2, where: isCutoff)
        #expect(cutoffs == [
            .cutoff(callID: "A", extensionNumber: "8001", boundary: t0 + 1_000, reason: .insufficientFunds),
            .cutoff(callID: "B", extensionNumber: "8001", boundary: t0 + 1_500, reason: .insufficientFunds),
        ])
        _ = try await h.engine.ended(callID: "A", billableMillis: 1_000, cause: "CUT")
        _ = try await h.engine.ended(callID: "B", billableMillis: 1_000, cause: "CUT")
        #expect(await h.balance("8001") == money("0.01"))
        #expect(h.journal.settlements.map(\.cost) == [money("0.02"), money("0.02")])
        #expect(h.engine.scheduler.stats.snapshot().wakes > 0)
    }

    @Test("a live call's route: set when allowed, kept by a repeat without one, moved, gone when the call ends")
    func routes() async throws {
        final class Route: CallRoute {
            func deliver(_ event: BillingEvent, nowMillis: Int64) -> Bool { true }
            func hangup(callID: String, reason: String) -> Bool { true }
            func close() {}
            var description: String { "route" }
        }
        let (first, second) = (Route(), Route())
        let h = Harness()
        try await h.billed("8001", balance: "0")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        // Denied (no money): no route, and the call is not live.
        #expect(!(try await h.engine.authorize(callID: "D", extensionNumber: "8001", dialled: "0123", route: first)
            .isAllowed))
        #expect(h.engine.route(of: "D") == nil && !h.engine.setRoute(first, callID: "D"))

        _ = try await h.engine.authorize(callID: "A", extensionNumber: "8002", dialled: "0123", route: first)
        _ = try await h.engine.authorize(callID: "B", extensionNumber: "8002", dialled: "0123", route: first)
        #expect(h.engine.route(of: "A") === first)
        _ = try await h.engine.authorize(callID: "A", extensionNumber: "8002", dialled: "0123")
        #expect(h.engine.route(of: "A") === first)
        #expect(h.engine.setRoute(second, callID: "A"))
        #expect(h.engine.calls(routedTo: first) == ["B"] && h.engine.calls(routedTo: second) == ["A"])
        _ = try await h.engine.ended(callID: "A", billableMillis: 0, cause: "NO_ANSWER")
        #expect(h.engine.route(of: "A") == nil && h.engine.calls(routedTo: second).isEmpty)
    }

    @Test("charges taken in batches are never seen late: a read takes what is due first")
    func coalescedChargesAreCaughtUp() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "100")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        _ = try await h.engine.authorize(callID: "A", extensionNumber: "8001", dialled: "0123")
        _ = try await h.engine.authorize(callID: "B", extensionNumber: "8001", dialled: "0123")
        try await h.engine.answered(callID: "A")
        await h.advance(ms: 900)
        try await h.engine.answered(callID: "B")
        // Well funded: A's charge at 1.0 s waits for the wake-up at B's charge at 1.9 s.
        await h.advance(ms: 200)
        #expect(await h.balance("8001") == money("99.94"))
        #expect(await h.engine.liveCalls().map(\.chargesMade) == [2, 1])
        await h.advance(ms: 800)
        #expect(await h.balance("8001") == money("99.92"))
    }

    @Test("a late scheduler still charges at the exact boundaries")
    func lateScheduler() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "0.05")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        var reader = EventReader(h.engine)
        _ = try await h.engine.authorize(callID: "A", extensionNumber: "8001", dialled: "0123")
        try await h.engine.answered(callID: "A")
        await h.advance(ms: 7_250)
        let cutoff = await reader.next(1, where: isCutoff)
        #expect(cutoff.first == .cutoff(callID: "A", extensionNumber: "8001", boundary: t0 + 2_000,
                                        reason: .insufficientFunds))
        #expect(h.engine.scheduler.stats.snapshot().latenessMaxMicros >= 5_000_000)
        // The cutoff went out 5.25 s after its boundary: the engine's own figure says so.
        let stats = h.engine.stats.snapshot()
        #expect(stats.cutoffs == 1)
        #expect(stats.authorizationsAllowed == 1 && stats.authorizationsDenied == 0)
        #expect((5_245_000...5_255_000).contains(stats.cutoffLateness.maxMicros))
    }

    @Test("an unknown extension is created with billing off and its calls go through unbilled")
    func unknownExtension() async throws {
        let h = Harness()
        let decision = try await h.engine.authorize(callID: "c", extensionNumber: "9009", dialled: "0044")
        #expect(decision == .allowed(rate: nil, unbilled: .billingOff, grantMillis: nil))
        #expect(await h.engine.extensionAccount(number: "9009")?.billingEnabled == false)
        #expect(h.journal.entries.contains { if case .extensionSaved(let a) = $0 { a.number == "9009" } else { false } })
    }

    @Test("denied calls are logged with their reason")
    func deniedLogged() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "0")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        #expect(try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
            == .denied(.insufficientFunds))
        let denied = h.journal.entries.compactMap { if case .denied(let r) = $0 { r } else { nil } }
        #expect(denied.map(\.reason) == ["INSUFFICIENT_FUNDS"])
        #expect(await h.engine.liveCalls().isEmpty)
        let stats = h.engine.stats.snapshot()
        #expect(stats.authorizationsDenied == 1 && stats.authorizationsAllowed == 0)
        // The manual clock did not move while deciding.
        #expect(stats.authorizeLatency.count == 1 && stats.authorizeLatency.maxMicros == 0)
    }

    @Test("repeated End is acknowledged and changes nothing; unknown End and absurd values are refused")
    func endIdempotent() async throws {
        let h = Harness()
        try await h.billedCall(balance: "1")
        try await h.engine.answered(callID: "c")
        try await h.engine.answered(callID: "c")
        await h.advance(ms: 2_500)
        await #expect(throws: TollgateError.self) {
            try await h.engine.ended(callID: "c", billableMillis: -1, cause: "x")
        }
        await #expect(throws: TollgateError.self) {
            try await h.engine.ended(callID: "c", billableMillis: 1_000_000_000_000_000, cause: "x")
        }
        guard case .settled(let record, _) = try await h.engine.ended(callID: "c", billableMillis: 2_500, cause: "OK")
        else { Issue.record("not settled"); return }
        #expect(record.cost == money("0.06"))
        let balance = await h.balance("8001")
        #expect(try await h.engine.ended(callID: "c", billableMillis: 9_000, cause: "OK") == .alreadySettled)
        try await h.engine.answered(callID: "c")
        await #expect(throws: TollgateError.self) {
            try await h.engine.ended(callID: "never", billableMillis: 1, cause: "x")
        }
        await #expect(throws: TollgateError.self) { try await h.engine.answered(callID: "never") }
        #expect(await h.balance("8001") == balance)
        #expect(h.journal.settlements.count == 1)
    }

    @Test("an ended call's id is refused as a new call after the engine-wide memory of ids let go of it")
    func endedIDRefusedByItsExtension() async throws {
        let h = Harness()
        try await h.billedCall(balance: "1")
        _ = try await h.engine.ended(callID: "c", billableMillis: 0, cause: "BUSY")
        await #expect(throws: TollgateError.self) {
            try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
        }
        // A busy engine forgets the oldest ids first; the extension's own memory still knows this one.
        h.engine.registry.withLock { $0.recentlyEnded = RecentIDs(capacity: 1) }
        #expect(h.engine.registry.withLock { !$0.recentlyEnded.contains("c") })
        let error = await #expect(throws: TollgateError.self) {
            try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
        }
        #expect(error?.code == .alreadyExists)
        #expect(await h.engine.liveCalls().isEmpty)
        #expect(h.journal.settlements.count == 1)
    }

    @Test("a recharge with an idempotency key applies once; a reused key for another amount is refused")
    func rechargeIdempotency() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "0")
        let first = try await h.engine.recharge(number: "8001", amount: money("5"), operatorName: "op",
                                                idempotencyKey: "k1")
        let again = try await h.engine.recharge(number: "8001", amount: money("5"), operatorName: "op",
                                                idempotencyKey: "k1")
        #expect(first == again)
        await #expect(throws: TollgateError.self) {
            try await h.engine.recharge(number: "8001", amount: money("6"), operatorName: "op", idempotencyKey: "k1")
        }
        await #expect(throws: TollgateError.self) {
            try await h.engine.recharge(number: "nope", amount: money("6"), operatorName: "op")
        }
        #expect(await h.balance("8001") == money("5"))
        #expect(h.journal.recharges.count == 1)

        // After a restart the key is found in the ledger.
        let restarted = Harness(journal: h.journal)
        restarted.engine.restore([RestoredAccount(
            account: ExtensionAccount(number: "8001", billingEnabled: true, balance: money("5")), calls: [],
            checkpointAt: t0)])
        let replay = try await restarted.engine.rechargeOutcome(number: "8001", amount: money("5"), operatorName: "op",
                                                             idempotencyKey: "k1")
        #expect(replay == RechargeOutcome(record: first, replayed: true))
        #expect(await restarted.balance("8001") == money("5"))
        let fresh = try await restarted.engine.rechargeOutcome(number: "8001", amount: money("5"), operatorName: "op",
                                                            idempotencyKey: "k2")
        #expect(!fresh.replayed)
        #expect(try await restarted.engine.rechargeOutcome(number: "8001", amount: money("5"), operatorName: "op",
                                                        idempotencyKey: "k2") == RechargeOutcome(record: fresh.record,
                                                                                                 replayed: true))
        #expect(await restarted.balance("8001") == money("10"))
    }

    @Test("remembered recharge keys: the oldest finished ones are forgotten past the capacity, in order")
    func rechargeKeyEviction() throws {
        let keys = RechargeKeys(capacity: 3)
        let record = { (n: Int) in
            RechargeRecord(extensionNumber: "8001", userName: "", kind: .recharge, amount: Money(micros: 1),
                           balanceBefore: .zero, balanceAfter: Money(micros: 1), at: Int64(n), operatorName: "op",
                           note: "", idempotencyKey: "k\(n)")
        }
        for n in 0..<10 {
            guard case .proceed = try keys.claim("k\(n)", number: "8001", amount: Money(micros: 1)) else {
                Issue.record("k\(n) claimed twice")
                return
            }
            keys.finish("k\(n)", record: record(n))
        }
        for n in 0..<7 {
            guard case .proceed = try keys.claim("k\(n)", number: "8001", amount: Money(micros: 1)) else {
                Issue.record("k\(n) should have been forgotten")
                return
            }
        }
        for n in 7..<10 {
            guard case .replay(let kept) = try keys.claim("k\(n)", number: "8001", amount: Money(micros: 1)) else {
                Issue.record("k\(n) should be remembered")
                return
            }
            #expect(kept == record(n))
        }
    }

    @Test("a recharge during a live call is seen by its next charge and renews its grant")
    func rechargeLive() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "0.02")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        var reader = EventReader(h.engine)
        _ = try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
        try await h.engine.answered(callID: "c")
        await h.advance(ms: 500)
        _ = try await h.engine.recharge(number: "8001", amount: money("0.10"), operatorName: "op")
        await h.advance(ms: 3_000)
        // Charges at 1 s, 2 s and 3 s came out of the recharge.
        #expect(await h.balance("8001") == money("0.04"))
        // The answer renewed nothing (the PBX held the authorization's 1 s); the recharge renewed at once.
        let renewals = await reader.next(1) { if case .grantRenewed = $0 { true } else { false } }
        #expect(renewals == [.grantRenewed(callID: "c", extensionNumber: "8001", deadline: t0 + 6_000)])
    }

    @Test("rate time blocks are read in the configured time zone")
    func timeZone() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "10")
        // t0 is 22:13:20 UTC: inside a 22:00–06:00 block in UTC, 06:13:20 in Shanghai (outside).
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.01"), unit: 60),
                                             block: TimeBlock(start: 22 * 3600, end: 6 * 3600), extensions: ["8001"]))
        #expect(try await h.engine.authorize(callID: "a", extensionNumber: "8001", dialled: "01").isAllowed)
        try await h.engine.setTimeZone(TimeZone(identifier: "Asia/Shanghai")!)
        #expect(try await h.engine.authorize(callID: "b", extensionNumber: "8001", dialled: "01") == .denied(.noRate))
    }

    @Test("the run loop wakes on the injected clock and pushes the cutoff")
    func runLoop() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "0.04")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        var reader = EventReader(h.engine)
        let loop = Task { try await h.engine.run() }
        _ = try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
        try await h.engine.answered(callID: "c")
        let cutoff = Task {
            await reader.next(1, where: isCutoff)
        }
        for _ in 0..<50 {
            await Task.yield()
            h.clock.advance(by: .milliseconds(100))
        }
        #expect(await cutoff.value == [.cutoff(callID: "c", extensionNumber: "8001", boundary: t0 + 2_000,
                                              reason: .insufficientFunds)])
        loop.cancel()
        _ = try? await loop.value
    }

    @Test("many extensions with several calls each: no balance below -credit, ledger matches balances")
    func manyExtensions() async throws {
        let h = Harness()
        var rng = SplitMix(seed: 42)
        let numbers = (0..<100).map { "7\($0)" }
        for number in numbers {
            try await h.billed(number, balance: "0.\(10 + rng.next(90))", credit: "0.0\(rng.next(10))")
        }
        try await h.engine.saveRate(perSecond("0.01", exts: Set(numbers)))
        var ends: [(Int64, String, Int64)] = []
        for (i, number) in numbers.enumerated() {
            for k in 0..<3 {
                let id = "\(number)-\(k)"
                if try await h.engine.authorize(callID: id, extensionNumber: number, dialled: "09").isAllowed {
                    try await h.engine.answered(callID: id)
                    ends.append((Int64(1_000 + (i * 37 + k * 911) % 30_000), id, 0))
                }
            }
        }
        ends.sort { $0.0 < $1.0 }
        var elapsed: Int64 = 0
        for (at, id, _) in ends {
            await h.advance(ms: at - elapsed)
            elapsed = at
            _ = try await h.engine.ended(callID: id, billableMillis: at, cause: "OK")
        }
        for account in await h.engine.extensionAccounts() {
            #expect(account.balance.micros >= -account.credit.micros)
            let recharged = h.journal.recharges.filter { $0.extensionNumber == account.number }
                .reduce(0) { $0 + $1.amount.micros }
            let spent = h.journal.settlements.filter { $0.extensionNumber == account.number }
                .reduce(0) { $0 + $1.cost.micros }
            #expect(recharged - spent == account.balance.micros)
        }
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

@Suite("Metering engine: settings changes", .timeLimit(.minutes(1)))
struct SettingsChangeTests {
    @Test("a longer warning lead takes effect for live calls at once, not at their next charge")
    func policyChangeReplans() async throws {
        var policy = BillingPolicy()
        policy.warningLeadMillis = 10_000
        let h = Harness(policy: policy)
        try await h.billed("8001", balance: "1.00")
        // 0.10 per 60-s unit: ten units, cut at 600 s.
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.10"), unit: 60),
                                             extensions: ["8001"]))
        var reader = EventReader(h.engine)
        _ = try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "01")
        try await h.engine.answered(callID: "c")
        await h.advance(ms: 500_000)
        policy.warningLeadMillis = 120_000
        try await h.engine.setPolicy(policy)
        let warning = await reader.next(1) { if case .warning = $0 { true } else { false } }
        #expect(warning == [.warning(callID: "c", extensionNumber: "8001", cutoffAt: t0 + 600_000, secondsLeft: 100)])
    }
}
