import BillingCore
import Testing

@Suite("Metering, cutoff and settlement rules (design.md §5–§9)")
struct MeteringRulesTests {
    @Test("design.md §5 worked example: two calls on 0.05, cut at 1.0 s and 1.5 s, final balance 0.01")
    func workedExample() throws {
        var s = Scenario(account(balance: "0.05"))
        s.authorize("A")
        s.authorize("B")
        try s.answer("A", at: t0)
        #expect(s.balance == money("0.03"))
        try s.answer("B", at: t0 + 500)
        #expect(s.balance == money("0.01"))
        let events = s.run(until: t0 + 2_000)
        #expect(events.cutoffs.map(\.0) == ["A", "B"])
        #expect(events.cutoffs.map(\.1) == [t0 + 1_000, t0 + 1_500])
        let a = try #require(try s.end("A", reported: 1_200, at: t0 + 1_200).record)
        let b = try #require(try s.end("B", reported: 1_300, at: t0 + 1_800).record)
        #expect(a.cost == money("0.02") && b.cost == money("0.02"))
        #expect(a.billableMillis == 1_000 && b.billableMillis == 1_000)
        #expect(a.result == .cutoff && b.result == .cutoff)
        #expect(s.balance == money("0.01"))
    }

    @Test("a ringing call is no change to store until its delay is over; answered, it is one at once")
    func ringingStoreDelay() throws {
        let delay = CallCharging.ringingStoreDelayMillis
        var s = Scenario(account(balance: "1.00"))
        let before = s.book.revision
        s.authorize("A")
        s.authorize("B", at: t0 + 300)
        #expect(s.book.revision == before)
        // The extension wakes when the first ringing call is due, and not before.
        #expect(s.book.nextWakeup(policy: s.policy) == t0 + delay)
        #expect(s.book.takeChangedCalls(at: t0 + delay - 1).isEmpty)
        s.advance(to: t0 + delay - 1)
        #expect(s.book.revision == before)
        s.advance(to: t0 + delay)
        #expect(s.book.revision != before)
        #expect(s.book.takeChangedCalls(at: t0 + delay).map(\.callID) == ["A"])
        #expect(s.book.nextWakeup(policy: s.policy) == t0 + 300 + delay)
        // Answered, B is a change at once, its delay notwithstanding.
        let answered = s.book.revision
        try s.answer("B", at: t0 + delay + 1)
        #expect(s.book.revision != answered)
        #expect(s.book.takeChangedCalls(at: t0 + delay + 1).map(\.callID) == ["B"])
    }

    @Test("a call ending exactly on a boundary does not pay the unit starting there")
    func endOnBoundary() throws {
        var s = Scenario(account(balance: "1"))
        s.authorize("c")
        try s.answer("c", at: t0)
        _ = s.run(until: t0 + 3_000)
        // The engine already took the unit starting at 3.0 s; settlement refunds it.
        #expect(s.balance == money("0.92"))
        let record = try #require(try s.end("c", reported: 3_000, at: t0 + 3_000).record)
        #expect(record.cost == money("0.06"))
        #expect(record.charged == money("0.08"))
        #expect(s.balance == money("0.94"))
    }

    @Test("late ticks charge at their scheduled instants, in due order")
    func lateTicks() throws {
        var s = Scenario(account(balance: "0.05"))
        s.authorize("A")
        s.authorize("B")
        try s.answer("A", at: t0)
        try s.answer("B", at: t0 + 500)
        let events = s.advance(to: t0 + 10_000)
        #expect(events.cutoffs.map(\.1) == [t0 + 1_000, t0 + 1_500])
        #expect(s.balance == money("0.01"))
    }

    @Test("prepaid with 0 credit never goes below 0; postpaid goes down to exactly -credit", arguments: [
        ("0.10", "0", "0.00"), ("0", "0.10", "-0.10"), ("0.05", "0.05", "-0.05"),
    ])
    func floorIsMinusCredit(balance: String, credit: String, floor: String) throws {
        var s = Scenario(account(balance: balance, credit: credit))
        s.authorize("c")
        try s.answer("c", at: t0)
        let events = s.run(until: t0 + 60_000)
        #expect(events.cutoffs.map(\.1) == [t0 + 5_000])
        #expect(s.balance == money(floor))
    }

    @Test("ten concurrent calls share one balance: earliest answer pays first, nothing overspends")
    func tenConcurrent() throws {
        var s = Scenario(account(balance: "1.00"))
        for i in 0..<10 { s.authorize("c\(i)") }
        for i in 0..<10 { try s.answer("c\(i)", at: t0 + Int64(i) * 10) }
        let events = s.run(until: t0 + 20_000)
        // 50 units of 0.02: five each; the 51st charge, due at 5 s for c0, cannot be paid.
        #expect(events.cutoffs.count == 10)
        #expect(events.cutoffs.map(\.0) == (0..<10).map { "c\($0)" })
        #expect(events.cutoffs.first?.1 == t0 + 5_000)
        #expect(s.balance == .zero)
    }

    @Test("a recharge mid-call is seen by the very next charge and renews the grant at once")
    func rechargeMidCall() throws {
        var s = Scenario(account(balance: "0.02"))
        s.authorize("c")
        let answerEvents = try s.answer("c", at: t0)
        // The PBX holds the authorization's grant, 1 s from its answer: nothing to renew yet.
        #expect(answerEvents.renewals.isEmpty)
        #expect(s.book.call("c")?.grantDeadline == t0 + 1_000)
        let change = try s.book.recharge(money("1"), at: t0 + 500, policy: s.policy)
        #expect(change.before == .zero && change.after == money("1"))
        // 1.00 buys 50 more units: the grant now ends where the money does, at 51 s.
        #expect(change.events.renewals.map(\.1) == [t0 + 51_000])
        let events = s.run(until: t0 + 10_000)
        #expect(events.cutoffs.isEmpty)
        #expect(s.balance == money("0.80"))
        #expect(s.book.account.totalRecharges == money("1"))
    }

    @Test("the answer starts the authorization's grant and renews only what changed while the call rang")
    func grantStartsAtAnswer() throws {
        var s = Scenario(account(balance: "2.00"))
        guard case .allowed(_, _, let grant?) = s.authorize("funded") else { Issue.record("no grant"); return }
        #expect(grant == s.policy.grantValidityMillis)
        #expect(s.book.call("funded")?.grantDeadline == nil)
        // Answered 3 s after its authorization: the PBX counts the grant from its answer, as the engine now does.
        #expect(try s.answer("funded", at: t0 + 3_000).renewals.isEmpty)
        #expect(s.book.call("funded")?.grantDeadline == t0 + 3_000 + grant)
        // The first renewal comes half a validity later, as for any call.
        let renewals = s.run(until: t0 + 3_000 + grant / 2).renewals
        #expect(renewals.map(\.1) == [t0 + 3_000 + grant / 2 + grant])

        var poor = Scenario(account(balance: "0.02"))
        guard case .allowed(_, _, let oneUnit?) = poor.authorize("c") else { Issue.record("no grant"); return }
        #expect(oneUnit == 1_000)
        // Money arriving while the call rings renews nothing yet (the grant has not started) ...
        #expect(try poor.book.recharge(money("1"), at: t0 + 200, policy: poor.policy).events.renewals.isEmpty)
        // ... and at the answer the PBX learns the longer grant the money now buys: 51 units.
        #expect(try poor.answer("c", at: t0 + 500).renewals.map(\.1) == [t0 + 500 + 51_000])

        // An authorization's grant that the money capped is renewed at once by new money after the answer, even
        // with more than half a validity left (0.80 buys 40 s of the 60 s validity).
        var capped = Scenario(account(balance: "0.80"))
        guard case .allowed(_, _, let forty?) = capped.authorize("c") else { Issue.record("no grant"); return }
        #expect(forty == 40_000)
        #expect(try capped.answer("c", at: t0 + 1_000).renewals.isEmpty)
        let recharged = try capped.book.recharge(money("1"), at: t0 + 2_000, policy: capped.policy)
        #expect(recharged.events.renewals.map(\.1) == [t0 + 2_000 + 60_000])
    }

    @Test("a warning goes out the lead time before a certain cutoff")
    func warning() throws {
        var s = Scenario(account(balance: "0.80"))
        s.policy.warningLeadMillis = 10_000
        s.authorize("c")
        try s.answer("c", at: t0)
        let events = s.run(until: t0 + 60_000)
        #expect(events.cutoffs.map(\.1) == [t0 + 40_000])
        #expect(events.warnings.map(\.1) == [t0 + 40_000])
        let warnedAt = events.firstIndex { if case .warning = $0 { true } else { false } }!
        let cutAt = events.firstIndex { if case .cutoff = $0 { true } else { false } }!
        #expect(warnedAt < cutAt)
    }

    @Test("grants are renewed while affordable and end where the money does")
    func grantRenewal() throws {
        var s = Scenario(account(balance: "2.00"))
        s.authorize("c")
        try s.answer("c", at: t0)
        let events = s.run(until: t0 + 200_000)
        let deadlines = events.renewals.compactMap(\.1)
        #expect(deadlines.last == t0 + 100_000)
        #expect(deadlines == deadlines.sorted())
        #expect(events.cutoffs.map(\.1) == [t0 + 100_000])
    }

    @Test("End is settled exactly once; a repeat and an unknown call change nothing")
    func exactlyOnce() throws {
        var s = Scenario(account(balance: "1"))
        s.authorize("c")
        try s.answer("c", at: t0)
        _ = try s.end("c", reported: 2_500, at: t0 + 2_500)
        let after = s.balance
        #expect(try s.end("c", reported: 9_000, at: t0 + 9_000) == .alreadySettled)
        #expect(throws: TollgateError.self) { try s.end("nope", reported: 1, at: t0 + 9_000) }
        #expect(throws: TollgateError.self) { try s.answer("nope", at: t0) }
        #expect(try s.answer("c", at: t0 + 9_000).isEmpty)
        #expect(s.balance == after)
        #expect(s.balance == money("0.94"))
    }

    @Test("a repeated Answered changes nothing")
    func repeatedAnswer() throws {
        var s = Scenario(account(balance: "1"))
        s.authorize("c")
        try s.answer("c", at: t0)
        #expect(try s.answer("c", at: t0 + 300).isEmpty)
        #expect(s.book.call("c")?.answeredAt == t0)
        #expect(s.balance == money("0.98"))
    }

    @Test("settlement caps the PBX's billable time by observed time plus tolerance")
    func tolerance() throws {
        var s = Scenario(account(balance: "10"))
        s.authorize("c")
        try s.answer("c", at: t0)
        let record = try #require(try s.end("c", reported: 60_000, at: t0 + 10_000).record)
        #expect(record.billableMillis == 12_000)
        #expect(record.cost == money("0.24"))
        #expect(s.balance == money("9.76"))
    }

    @Test("a shorter PBX report refunds the difference")
    func refund() throws {
        var s = Scenario(account(balance: "10"))
        s.authorize("c")
        try s.answer("c", at: t0)
        _ = s.run(until: t0 + 9_999)
        #expect(s.balance == money("9.80"))
        let record = try #require(try s.end("c", reported: 4_000, at: t0 + 9_999).record)
        #expect(record.cost == money("0.08") && record.refund == money("0.12"))
        #expect(s.balance == money("9.92"))
    }

    @Test("an unanswered call costs nothing and refunds nothing")
    func unanswered() throws {
        var s = Scenario(account(balance: "1"))
        s.authorize("c")
        let record = try #require(try s.end("c", reported: 0, at: t0 + 5_000).record)
        #expect(record.result == .unanswered && record.cost == .zero)
        #expect(s.balance == money("1"))
    }

    @Test("emergency and billing-off calls are never charged and never cut")
    func unbilledNeverCut() throws {
        var s = Scenario(account(balance: "0"))
        s.authorize("e", "112")
        try s.answer("e", at: t0)
        #expect(s.book.nextWakeup(policy: s.policy) == nil)
        let record = try #require(try s.end("e", reported: 3_600_000, at: t0 + 3_600_000).record)
        #expect(record.result == .unbilled && record.cost == .zero && record.reason == "FREE_NUMBER")
    }

    @Test("locking affects new calls; live calls go on")
    func lockLive() throws {
        var s = Scenario(account(balance: "1"))
        s.authorize("c")
        try s.answer("c", at: t0)
        _ = try s.book.update(AccountChange(status: .locked), at: t0 + 100, policy: s.policy)
        #expect(AuthorizationTests.outcome(s.authorize("d")) == .denied(.locked))
        let events = s.run(until: t0 + 10_000)
        #expect(events.cutoffs.isEmpty)
        #expect(s.balance == money("0.78"))
    }

    @Test("switching billing off mid-call stops charges; settlement bills up to that instant")
    func billingOffMidCall() throws {
        var s = Scenario(account(balance: "1"))
        s.authorize("c")
        try s.answer("c", at: t0)
        let events = try s.book.update(AccountChange(billingEnabled: false), at: t0 + 2_500, policy: s.policy)
        #expect(events.renewals.map(\.1) == [nil])
        _ = s.run(until: t0 + 10_000)
        let record = try #require(try s.end("c", reported: 10_000, at: t0 + 10_000).record)
        #expect(record.billableMillis == 2_500 && record.cost == money("0.06"))
        #expect(s.balance == money("0.94"))
    }

    @Test("lowering credit mid-call cuts at the next unaffordable charge")
    func creditLowered() throws {
        var s = Scenario(account(balance: "0", credit: "1"))
        s.authorize("c")
        try s.answer("c", at: t0)
        _ = s.run(until: t0 + 2_500)
        _ = try s.book.update(AccountChange(credit: money("0.07")), at: t0 + 2_500, policy: s.policy)
        let events = s.run(until: t0 + 10_000)
        #expect(events.cutoffs.map(\.1) == [t0 + 3_000])
        #expect(s.balance == money("-0.06"))
    }

    @Test("charges owed but not yet taken at End are taken while affordable")
    func owedAtEnd() throws {
        var s = Scenario(account(balance: "0.05"))
        s.authorize("c")
        try s.answer("c", at: t0)
        // No ticks ran: the PBX reports 4.5 s; only 2 more units are affordable after the answer charge.
        let record = try #require(try s.end("c", reported: 4_500, at: t0 + 4_500).record)
        #expect(record.billableMillis == 2_000 || record.billableMillis == 3_000)
        #expect(s.balance >= .zero)
        #expect(record.cost == (try tariff("0", 0, "0.02", 1).cost(billableMillis: record.billableMillis)))
    }

    @Test("recharges: positive, bounded, overflow-safe, and refused ones change nothing", arguments: [
        "0", "-1", "100000.000001", "9223372036854.775807",
    ])
    func rechargeBounds(amount: String) {
        var s = Scenario(account(balance: "1"))
        #expect(throws: TollgateError.self) { try s.book.recharge(money(amount), at: t0, policy: s.policy) }
        #expect(s.balance == money("1") && s.book.account.totalRecharges == .zero)
    }

    @Test("a balance near the top of the range refuses a recharge instead of overflowing")
    func rechargeOverflow() {
        var s = Scenario(ExtensionAccount(number: "8001", billingEnabled: true, balance: Money(micros: .max - 10)))
        #expect(throws: TollgateError.self) { try s.book.recharge(money("1"), at: t0, policy: s.policy) }
        #expect(s.balance == Money(micros: .max - 10))
    }

    @Test("changing the payment type resets total recharges")
    func paymentTypeReset() throws {
        var s = Scenario(account(balance: "0"))
        _ = try s.book.recharge(money("5"), at: t0, policy: s.policy)
        #expect(s.book.account.totalRecharges == money("5"))
        _ = try s.book.update(AccountChange(paymentType: .prepaid), at: t0, policy: s.policy)
        #expect(s.book.account.totalRecharges == money("5"))
        _ = try s.book.update(AccountChange(paymentType: .postpaid), at: t0, policy: s.policy)
        #expect(s.book.account.totalRecharges == .zero)
        #expect(throws: TollgateError.self) {
            try s.book.update(AccountChange(credit: money("-1")), at: t0, policy: s.policy)
        }
    }

    @Test("initial time: the connection fee covers it, then units begin")
    func initialTime() throws {
        var s = Scenario(account(balance: "1"), t: tariff("0.30", 60, "0.05", 30))
        s.authorize("c")
        try s.answer("c", at: t0)
        #expect(s.balance == money("0.70"))
        _ = s.run(until: t0 + 60_000)
        #expect(s.balance == money("0.65"))
        let record = try #require(try s.end("c", reported: 75_000, at: t0 + 75_000).record)
        #expect(record.cost == money("0.35"))
    }
}
