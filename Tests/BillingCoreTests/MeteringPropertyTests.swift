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

    @Test("a PBX that counts each grant from its answer never hangs up a call the engine still meters")
    func grantsCoverMeteredCalls() async {
        // Per call: ringing time and length; then the balance, a recharge while the first call rings, and
        // the grant validity (short ones make many renewals).
        let calls = zip(Gen.int64(in: 0...20_000), Gen.int64(in: 1...200_000)).array(of: 1...6)
        await propertyCheck(count: 200, input: Self.tariffs, Gen.int64(in: 0...3_000_000), Gen.int64(in: 0...2_000_000),
                            Gen.int64(in: 2_000...60_000), calls) { t, balance, recharge, validity, plan in
            var s = Scenario(account(balance: "0"), t: t)
            s.policy.grantValidityMillis = validity
            if balance > 0 { _ = try s.book.recharge(Money(micros: balance), at: t0, policy: s.policy) }
            // What the PBX holds: each call's grant from its authorization, then its deadline once answered.
            var granted: [String: Int64] = [:]
            var held: [String: Int64] = [:]
            var cut: Set<String> = []
            func hear(_ events: [BillingEvent]) {
                for event in events {
                    switch event {
                    case .grantRenewed(let id, _, let deadline): if let deadline { held[id] = deadline }
                    case .cutoff(let id, _, _, _): cut.insert(id)
                    default: break
                    }
                }
            }
            var timeline: [(at: Int64, id: String, isAnswer: Bool)] = []
            for (i, (ring, length)) in plan.enumerated() {
                if case .allowed(_, _, let grant?) = s.authorize("c\(i)") { granted["c\(i)"] = grant }
                timeline.append((t0 + ring, "c\(i)", true))
                timeline.append((t0 + ring + length, "c\(i)", false))
            }
            if recharge > 0, let first = timeline.first {
                // Money arriving while the first call still rings.
                timeline.append((first.at - 1, "recharge", false))
            }
            timeline.sort { ($0.at, $0.isAnswer ? 1 : 0) < ($1.at, $1.isAnswer ? 1 : 0) }
            // Runs the engine's own wake-ups up to `limit`, checking before each that the PBX still lets every
            // metered call run.
            func run(until limit: Int64) {
                while let wake = s.book.nextWakeup(policy: s.policy), wake <= limit {
                    for (id, deadline) in held where !cut.contains(id) {
                        #expect(deadline >= wake, "\(id)'s grant ended at \(deadline), before \(wake)")
                    }
                    hear(s.advance(to: wake))
                }
            }
            for event in timeline where event.at >= t0 {
                run(until: event.at)
                if event.id == "recharge" {
                    hear(try s.book.recharge(Money(micros: recharge), at: event.at, policy: s.policy).events)
                    continue
                }
                guard s.book.call(event.id) != nil else { continue }
                if event.isAnswer {
                    // The PBX starts the grant it was given when it answers; the engine must agree.
                    if let grant = granted[event.id] { held[event.id] = event.at + grant }
                    hear(try s.answer(event.id, at: event.at))
                    // (A call whose answer charge its siblings' charges left unaffordable is cut at once.)
                    if !cut.contains(event.id) { #expect(s.book.call(event.id)?.grantDeadline == held[event.id]) }
                } else {
                    if !cut.contains(event.id), let deadline = held[event.id] {
                        #expect(deadline >= event.at, "the PBX hung \(event.id) up at \(deadline)")
                    }
                    held[event.id] = nil
                    if case .settled(_, let events) = try s.end(event.id, reported: event.at - t0, at: event.at) {
                        hear(events)
                    }
                }
            }
        }
    }
}
