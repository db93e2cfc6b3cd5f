package import BillingCore
import Foundation
import Synchronization

/// What a call would cost: the rate that applies and the cost of the duration, or why it would not be billed.
package struct Quote: Codable, Sendable {
    package var extensionNumber: String
    package var number: String
    package var start: Int64
    package var durationSeconds: Int64
    package var rate: RateView?
    package var cost: MoneyText
    package var billed: Bool
    package var reason: String?
}

/// How an import treats the rates already in the table.
package enum RateImportMode: String, Sendable, CaseIterable {
    /// Lines with an id replace that rate, lines without one are added; other rates stay.
    case merge
    /// The table becomes exactly the file.
    case replace
}

extension AdminOperations {
    package func rates() -> [Rate] { engine.rates.rates.values.sorted { $0.id < $1.id } }

    package func rate(id: Int64) throws -> Rate {
        guard let rate = engine.rates.rates[id] else { throw APIError.notFound("no rate \(id)", field: "id") }
        return rate
    }

    package func createRate(_ view: RateView) async throws -> Rate {
        let rate = try view.rate(id: rateIDs.allocate(after: engine.nextRateID() - 1))
        try await engine.saveRate(rate)
        return rate
    }

    package func updateRate(id: Int64, _ view: RateView) async throws -> Rate {
        let existing = try rate(id: id)
        if let bodyID = view.id, bodyID != existing.id {
            throw APIError.invalid("id in the body differs from the path", field: "id")
        }
        let rate = try view.rate(id: existing.id)
        try await engine.saveRate(rate)
        return rate
    }

    package func deleteRate(id: Int64) async throws { try await engine.deleteRate(id: try rate(id: id).id) }

    package func setRate(id: Int64, active: Bool) async throws -> Rate {
        var rate = try rate(id: id)
        rate.active = active
        try await engine.saveRate(rate)
        return rate
    }

    package func assignRate(id: Int64, extensions: [String]) async throws -> Rate {
        var rate = try rate(id: id)
        guard extensions.count <= 100_000 else {
            throw APIError.invalid("at most 100,000 extensions per rate", field: "extensions")
        }
        for number in extensions { try ExtensionAccount.validate(number: number) }
        rate.extensions = Set(extensions)
        try await engine.saveRate(rate)
        return rate
    }

    package func exportRates() -> String { RateCSV.export(rates()) }

    /// Imports a rates CSV: every line is checked first, and one bad line applies nothing.
    package func importRates(_ text: String, mode: RateImportMode) async throws
        -> Result<Int, RateCSV.ImportFailure>
    {
        switch RateCSV.parse(text) {
        case .failure(let failure):
            return .failure(failure)
        case .success(let parsed):
            var table = mode == .merge ? engine.rates.rates : [:]
            var nextID = max(engine.nextRateID(), (parsed.compactMap(\.id).max() ?? 0) + 1)
            for (id, rate) in parsed {
                var rate = rate
                if let id {
                    rate.id = id
                } else {
                    rate.id = rateIDs.allocate(after: nextID - 1)
                    nextID = rate.id + 1
                }
                table[rate.id] = rate
            }
            try await engine.replaceRates(table.values.sorted { $0.id < $1.id })
            return .success(parsed.count)
        }
    }

    /// What a call from `ext` to `number` starting at `start` and lasting `seconds` would cost, by the rules an
    /// authorization would use (free numbers, rate selection at the time of day, the no-rate policy).
    package func quote(extension ext: String, number: String, start: Int64, seconds: Int64) throws -> Quote {
        guard (0...(31 * 86_400)).contains(seconds) else {
            throw APIError.invalid("duration must be 0 to \(31 * 86_400) seconds", field: "duration")
        }
        let secondOfDay = engine.secondOfDay(epochMillis: start)
        do throws(TollgateError) {
            try CallRequest(callID: "quote", extensionNumber: ext, dialled: number, at: start,
                            secondOfDay: secondOfDay).validate()
        } catch {
            throw APIError.invalid(error.message, field: error.field == "dialled" ? "number" : "extension")
        }
        let policy = engine.policy
        func unbilled(_ reason: String) -> Quote {
            Quote(extensionNumber: ext, number: number, start: start, durationSeconds: seconds, rate: nil,
                  cost: MoneyText(.zero), billed: false, reason: reason)
        }
        if policy.freeNumbers.contains(number) { return unbilled("free number") }
        guard let rate = engine.rates.select(extension: ext, number: number, secondOfDay: secondOfDay) else {
            return unbilled(policy.noRatePolicy == .deny ? "no rate: the call would be denied"
                                : "no rate: the call would be allowed unbilled")
        }
        let cost = try rate.tariff.cost(billableMillis: seconds * 1000)
        return Quote(extensionNumber: ext, number: number, start: start, durationSeconds: seconds,
                     rate: RateView(rate), cost: MoneyText(cost), billed: true, reason: nil)
    }
}

/// Hands out rate ids without two concurrent creations getting the same one.
final class RateIDs: Sendable {
    private let last = Mutex<Int64>(0)

    /// A fresh id greater than `floor` and than every id handed out before.
    func allocate(after floor: Int64) -> Int64 {
        last.withLock { last in
            last = max(last, floor) + 1
            return last
        }
    }
}
