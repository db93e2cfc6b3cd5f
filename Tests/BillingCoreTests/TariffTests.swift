import BillingCore
import Testing

func money(_ text: String) -> Money { try! Money(parsing: text) }

func tariff(_ initialCost: String = "0", _ initialTime: Int = 0, _ rate: String, _ unit: Int) -> Tariff {
    try! Tariff(initialCost: money(initialCost), initialTime: initialTime, rate: money(rate), unit: unit)
}

@Suite("Tariff: cost(d) of design.md §5")
struct TariffTests {
    // (initialCost, initialTime, rate, unit, billable ms, expected cost)
    @Test("cost for initial cost/time combinations, units, boundaries", arguments: [
        // 0/0: pure per-unit
        ("0", 0, "0.02", 1, Int64(0), "0"), ("0", 0, "0.02", 1, 1, "0.02"), ("0", 0, "0.02", 1, 1000, "0.02"),
        ("0", 0, "0.02", 1, 1001, "0.04"), ("0", 0, "0.02", 1, 3000, "0.06"),
        // unit 60 s
        ("0", 0, "0.60", 60, 59_999, "0.60"), ("0", 0, "0.60", 60, 60_000, "0.60"), ("0", 0, "0.60", 60, 60_001, "1.20"),
        // 0/x: free initial time
        ("0", 30, "0.10", 6, 30_000, "0"), ("0", 30, "0.10", 6, 30_001, "0.10"), ("0", 30, "0.10", 6, 36_001, "0.20"),
        // x/0: connection fee plus per-unit from the start
        ("0.50", 0, "0.10", 60, 1, "0.60"), ("0.50", 0, "0.10", 60, 60_000, "0.60"), ("0.50", 0, "0.10", 60, 60_001, "0.70"),
        // x/y: connection fee covering an initial time
        ("0.30", 60, "0.05", 30, 1, "0.30"), ("0.30", 60, "0.05", 30, 60_000, "0.30"),
        ("0.30", 60, "0.05", 30, 60_001, "0.35"), ("0.30", 60, "0.05", 30, 120_000, "0.40"),
        // rate 0
        ("0.25", 0, "0", 1, 3_600_000, "0.25"), ("0", 0, "0", 1, 5_000, "0"),
        // unanswered
        ("0.30", 60, "0.05", 30, 0, "0"),
    ])
    func cost(ic: String, it: Int, rate: String, unit: Int, d: Int64, expected: String) throws {
        #expect(try tariff(ic, it, rate, unit).cost(billableMillis: d) == money(expected))
    }

    @Test("the charge schedule sums to cost(d) for every duration", arguments: [
        tariff("0", 0, "0.02", 1), tariff("0.5", 0, "0.1", 60), tariff("0", 30, "0.1", 6), tariff("0.3", 60, "0.05", 30),
        tariff("0", 0, "0", 1),
    ])
    func scheduleSumsToCost(t: Tariff) throws {
        for d in stride(from: Int64(0), through: 200_000, by: 250) {
            let owed = t.chargesOwed(billableMillis: d)
            var sum = Money.zero
            for index in 0..<owed {
                #expect(t.chargeOffset(index: index) < d)
                sum = try sum.adding(t.chargeAmount(index: index))
            }
            if owed > 0 { #expect(t.chargeOffset(index: owed) >= d) }
            #expect(sum == (try t.cost(billableMillis: d)), "d=\(d)")
        }
    }

    @Test("affordable duration is the offset of the first unpaid charge")
    func affordable() {
        let t = tariff("0", 0, "0.02", 1)
        #expect(t.affordableMillis(available: money("0.01")) == nil)
        #expect(t.affordableMillis(available: money("0.05")) == 2_000)
        #expect(tariff("0.3", 60, "0.05", 30).affordableMillis(available: money("0.40")) == 120_000)
        #expect(tariff("0", 0, "0", 1).affordableMillis(available: .zero) == .max)
    }

    @Test("absurd terms are refused", arguments: [
        ("-1", 0, "0.1", 1), ("0", -1, "0.1", 1), ("0", 0, "-0.1", 1), ("0", 0, "0.1", 0), ("0", 0, "0.1", 86_401),
        ("0", 86_401, "0.1", 1),
    ])
    func refuses(ic: String, it: Int, rate: String, unit: Int) {
        #expect(throws: TollgateError.self) {
            try Tariff(initialCost: money(ic), initialTime: it, rate: money(rate), unit: unit)
        }
    }

    @Test("initial cost plus rate that overflows is refused")
    func overflowTerms() {
        #expect(throws: TollgateError.self) { try Tariff(initialCost: .max, rate: Money(micros: 1), unit: 1) }
    }
}
