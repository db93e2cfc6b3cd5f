import BillingCore
import Ledger
import Metering
import PropertyBased
import TestSupport
import Testing

@Suite("Ledger invariants (property tests)")
struct LedgerPropertyTests {
    enum Step: Sendable, CustomStringConvertible {
        case recharge(ext: Int, cents: Int)
        case call(ext: Int, id: Int)
        case answer(id: Int)
        case end(id: Int, reportedMillis: Int64)
        case advance(millis: Int64)
        case credit(ext: Int, cents: Int)
        case flush

        var description: String {
            switch self {
            case .recharge(let e, let c): "recharge(\(e), \(c))"
            case .call(let e, let id): "call(\(e), \(id))"
            case .answer(let id): "answer(\(id))"
            case .end(let id, let ms): "end(\(id), \(ms))"
            case .advance(let ms): "advance(\(ms))"
            case .credit(let e, let c): "credit(\(e), \(c))"
            case .flush: "flush"
            }
        }
    }

    static let step = zip(Gen.int(in: 0...6), Gen.int(in: 0...3), Gen.int(in: 0...11), Gen.int(in: 1...500),
                          Gen.int64(in: 0...20_000))
        .map { kind, ext, id, cents, ms -> Step in
            switch kind {
            case 0: .recharge(ext: ext, cents: cents)
            case 1: .call(ext: ext, id: id)
            case 2: .answer(id: id)
            case 3: .end(id: id, reportedMillis: ms)
            case 4: .advance(millis: ms)
            case 5: .credit(ext: ext, cents: cents / 5)
            default: .flush
            }
        }

    @Test("whatever happens, the ledger sums to the balances and charges never take a balance below -credit")
    func ledgerSumsToBalances() async {
        await propertyCheck(count: 80, input: Self.step.array(of: 10...80)) { steps in
            // A tiny batch limit: most checkpoints wait for later batches, as under heavy load.
            let h = try await LedgerHarness(checkpointsPerBatch: 1)
            defer { h.directory.remove() }
            let numbers = try await h.propertyExtensions(balance: "0")
            var before: [String: Money] = [:]
            for step in steps {
                for account in await h.engine.extensionAccounts() { before[account.number] = account.balance }
                try await Self.apply(step, to: h, numbers: numbers, rechargeUnit: 10_000)
                if case .flush = step { #expect(try await h.ledger.verify() == []) }
                // An operator may lower credit below an existing debt; what metering and settlement take must
                // never end below -credit.
                for account in await h.engine.extensionAccounts() where account.balance < before[account.number]! {
                    #expect(account.balance.micros >= -account.credit.micros, "after \(step)")
                }
            }
            try await h.close()
            #expect(try await h.ledger.verify() == [])
        }
    }

    /// Carries out one step on the harness's engine; refused operations (unknown calls and the like) are ignored.
    static func apply(_ step: Step, to h: LedgerHarness, numbers: [String], rechargeUnit: Int64) async throws {
        switch step {
        case .recharge(let ext, let cents):
            _ = try await h.engine.recharge(number: numbers[ext], amount: Money(micros: Int64(cents) * rechargeUnit),
                                            operatorName: "p")
        case .call(let ext, let id):
            _ = try? await h.engine.authorize(callID: "c\(id)", extensionNumber: numbers[ext], dialled: "0123")
        case .answer(let id):
            try? await h.engine.answered(callID: "c\(id)")
        case .end(let id, let ms):
            _ = try? await h.engine.ended(callID: "c\(id)", billableMillis: ms, cause: "x")
        case .advance(let ms):
            await h.advance(ms: ms)
        case .credit(let ext, let cents):
            _ = try await h.engine.updateExtension(
                number: numbers[ext], AccountChange(credit: Money(micros: Int64(cents) * 10_000)))
        case .flush:
            try await h.ledger.flush()
        }
    }
}
