import BillingCore
import PropertyBased
import Testing

@Suite("Metering invariants (property tests)")
struct MeteringPropertyTests {
    static let tariffs = zip(Gen.int64(in: 0...500_000), Gen.int(in: 0...120), Gen.int64(in: 0...300_000),
                             Gen.int(in: 1...90))
        .map { ic, it, r, u in
            try! Tariff(initialCost: Money(micros: ic), initialTime: it, rate: Money(micros: r), unit: u)
        }

    @Test("with enough money, what metering takes for a call equals cost(d)")
    func chargesEqualCost() async {
        await propertyCheck(count: 300, input: Self.tariffs, Gen.int64(in: 1...600_000)) { t, d in
            var s = Scenario(account(balance: "100000"), t: t)
            s.authorize("c")
            try s.answer("c", at: t0)
            _ = s.run(until: t0 + d - 1)
            let before = try money("100000").subtracting(s.balance)
            #expect(before == (try t.cost(billableMillis: d)), "charges during the call")
            let record = try #require(try s.end("c", reported: d, at: t0 + d).record)
            #expect(record.cost == (try t.cost(billableMillis: d)))
            #expect(try money("100000").subtracting(s.balance) == record.cost)
        }
    }

    @Test("concurrent calls never take a balance below -credit, and costs sum to what was taken")
    func neverBelowCredit() async {
        let calls = zip(Gen.int64(in: 0...20_000), Gen.int64(in: 1...120_000)).array(of: 1...8)
        await propertyCheck(count: 200, input: Self.tariffs, Gen.int64(in: 0...3_000_000),
                            Gen.int64(in: 0...1_000_000), calls) { t, balance, credit, plan in
            var s = Scenario(ExtensionAccount(number: "8001", billingEnabled: true, balance: Money(micros: balance),
                                              credit: Money(micros: credit)), t: t)
            var timeline: [(Int64, String, Bool)] = []
            for (i, (answerAt, length)) in plan.enumerated() {
                s.authorize("c\(i)")
                timeline.append((t0 + answerAt, "c\(i)", true))
                timeline.append((t0 + answerAt + length, "c\(i)", false))
            }
            timeline.sort { ($0.0, $0.2 ? 1 : 0) < ($1.0, $1.2 ? 1 : 0) }
            var costs: Int64 = 0
            for (at, id, isAnswer) in timeline {
                _ = s.run(until: at)
                #expect(s.balance.micros >= -credit)
                if isAnswer {
                    _ = try s.answer(id, at: at)
                } else if let record = try s.end(id, reported: at - t0, at: at).record {
                    costs += record.cost.micros
                    if let answered = record.answeredAt {
                        #expect(record.cost == (try t.cost(billableMillis: record.billableMillis)))
                        #expect(record.billableMillis <= at - answered + s.policy.endToleranceMillis)
                    }
                }
                #expect(s.balance.micros >= -credit)
            }
            #expect(s.book.calls.isEmpty)
            #expect(balance - s.balance.micros == costs)
        }
    }
}
