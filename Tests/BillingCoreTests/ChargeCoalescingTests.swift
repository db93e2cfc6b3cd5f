import BillingCore
import Testing

@Suite("Charges of a well-funded extension are taken in batches; cutoffs stay exact")
struct ChargeCoalescingTests {
    @Test("two funded calls half a second apart: one wake-up per second, at the later charge")
    func fundedCallsShareWakeups() throws {
        var s = Scenario(account(balance: "100"))
        s.authorize("a")
        s.authorize("b")
        try s.answer("a", at: t0)
        try s.answer("b", at: t0 + 500)
        // Due: a at t0+1000, b at t0+1500; both within the window from t0+1000, taken together at t0+1500.
        #expect(s.book.nextWakeup(policy: s.policy) == t0 + 1_500)
        _ = s.advance(to: t0 + 1_500)
        #expect(s.book.calls.map(\.chargesMade) == [2, 2])
        #expect(s.balance == money("99.92"))
        #expect(s.book.nextWakeup(policy: s.policy) == t0 + 2_500)
    }

    @Test("when the money runs out within the projection, every charge and the cut keep their exact instants")
    func tightCallsAreExact() throws {
        var s = Scenario(account(balance: "0.09"))
        s.authorize("a")
        s.authorize("b")
        try s.answer("a", at: t0)
        try s.answer("b", at: t0 + 500)
        // 0.05 left after the two answer charges (0.02 each): a@1.0 → 0.03, b@1.5 → 0.01; a@2.0 and b@2.5
        // cannot be paid. Every wake-up is at a charge's own instant.
        var wakes: [Int64] = []
        var events: [BillingEvent] = []
        while let wake = s.book.nextWakeup(policy: s.policy), wake <= t0 + 10_000 {
            wakes.append(wake - t0)
            events += s.advance(to: wake)
        }
        #expect(Array(wakes.prefix(4)) == [1_000, 1_500, 2_000, 2_500])
        #expect(events.cutoffs.map(\.0) == ["a", "b"])
        #expect(events.cutoffs.map(\.1) == [t0 + 2_000, t0 + 2_500])
    }
}
