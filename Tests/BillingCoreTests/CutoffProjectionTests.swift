@testable import BillingCore
import PropertyBased
import Testing

@Suite("Cutoff projection: the closed-form bound agrees with playing every charge")
struct CutoffProjectionTests {
    /// Several answered calls of one extension at various points of their tariff.
    static let calls = zip(Gen.int64(in: 0...50_000), Gen.int64(in: 0...40)).array(of: 1...10)

    @Test("exactly what the calls owe up to the horizon pays every charge; a micro less cuts one")
    func owedIsTheThreshold() async {
        await propertyCheck(count: 300, input: MeteringPropertyTests.tariffs, Self.calls,
                            Gen.int64(in: 0...200_000)) { tariff, plan, ahead in
            var calls: [CallCharging] = []
            for (i, (answeredAgo, made)) in plan.enumerated() {
                let answeredAt = t0 - answeredAgo
                let made = tariff.hasRecurringCharges ? made : min(made, 1)
                var charged: Int64 = 0
                for index in 0..<made { charged += tariff.chargeAmount(index: index).micros }
                calls.append(CallCharging(
                    restoring: "c\(i)", extensionNumber: "8001", dialled: "0100",
                    rate: RateSnapshot(rateID: 1, prefix: "0", tariff: tariff), unbilledReason: nil,
                    authorizedAt: answeredAt, answeredAt: answeredAt, chargesMade: made,
                    charged: Money(micros: charged), cutAt: nil))
            }
            let until = t0 + ahead
            let owed = try #require(CutoffProjection.owed(by: calls, until: until))
            let paid = CutoffProjection.play(calls: calls, available: Money(micros: owed), until: until,
                                             stepLimit: .max)
            #expect(paid.cutoffs.isEmpty)
            if owed > 0 {
                let short = CutoffProjection.play(calls: calls, available: Money(micros: owed - 1), until: until,
                                                  stepLimit: .max)
                #expect(!short.cutoffs.isEmpty)
            }
        }
    }
}
