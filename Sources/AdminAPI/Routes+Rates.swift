import BillingCore
import Foundation
import Hummingbird
import Synchronization

extension AdminAPI {
    struct Assignment: Decodable { var extensions: [String] }
    struct ImportReply: Encodable { var imported: Int; var mode: String }
    struct ImportErrors: Encodable { var code: String; var message: String; var errors: [RateCSV.LineError] }
    struct Quote: Encodable {
        var extensionNumber: String
        var number: String
        var start: Int64
        var durationSeconds: Int64
        var rate: RateView?
        var cost: MoneyText
        var billed: Bool
        var reason: String?
    }

    func addRateRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("/rates") { request, _ in
            _ = try self.authorize(request, .billing)
            return try Response.json(self.engine.rates.rates.values.sorted { $0.id < $1.id }.map(RateView.init))
        }
        api.post("/rates") { request, _ in
            _ = try self.authorize(request, .billing)
            let view = try await request.decodeJSON(RateView.self)
            let rate = try view.rate(id: self.rateIDs.allocate(after: self.engine.nextRateID() - 1))
            try await self.engine.saveRate(rate)
            return try Response.json(RateView(rate), status: .created)
        }
        api.get("/rates/export") { request, _ in
            _ = try self.authorize(request, .billing)
            return Response.download(Array(RateCSV.export(Array(self.engine.rates.rates.values)).utf8),
                                     contentType: "text/csv; charset=utf-8", fileName: "rates.csv")
        }
        api.post("/rates/import") { request, _ in
            _ = try self.authorize(request, .billing)
            let mode = try request.queryChoice("mode") ?? "replace"
            guard mode == "replace" || mode == "merge" else {
                throw APIError.invalid("mode must be replace or merge", field: "mode")
            }
            let bytes = try await request.bodyBytes(limit: 32 << 20)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw APIError.invalid("the file is not UTF-8 text", field: "file")
            }
            switch RateCSV.parse(text) {
            case .failure(let failure):
                return try Response.json(ImportErrors(
                    code: "INVALID_ARGUMENT", message: "\(failure.errors.count) bad line(s); nothing was imported",
                    errors: failure.errors), status: .badRequest)
            case .success(let parsed):
                var table = mode == "merge" ? self.engine.rates.rates : [:]
                var nextID = max(self.engine.nextRateID(), (parsed.compactMap(\.id).max() ?? 0) + 1)
                for (id, rate) in parsed {
                    var rate = rate
                    if let id {
                        rate.id = id
                    } else {
                        rate.id = self.rateIDs.allocate(after: nextID - 1)
                        nextID = rate.id + 1
                    }
                    table[rate.id] = rate
                }
                try await self.engine.replaceRates(table.values.sorted { $0.id < $1.id })
                return try Response.json(ImportReply(imported: parsed.count, mode: mode))
            }
        }
        api.get("/rates/quote") { request, _ in
            _ = try self.authorize(request, .billing)
            guard let ext = request.query("extension"), let number = request.query("number") else {
                throw APIError.invalid("extension and number are required", field: "extension")
            }
            let start = try request.queryTime("start") ?? self.engine.nowMillis()
            let seconds = Int64(try request.query("duration", in: 0...(31 * 86_400), default: 60))
            // The time of day and the number rules an authorization would use: a quote answers "what would this
            // call cost".
            let secondOfDay = self.engine.secondOfDay(epochMillis: start)
            do throws(TollgateError) {
                try CallRequest(callID: "quote", extensionNumber: ext, dialled: number, at: start,
                                secondOfDay: secondOfDay).validate()
            } catch {
                throw APIError.invalid(error.message, field: error.field == "dialled" ? "number" : "extension")
            }
            let policy = self.engine.policy
            if policy.freeNumbers.contains(number) {
                return try Response.json(Quote(extensionNumber: ext, number: number, start: start, durationSeconds: seconds,
                                               rate: nil, cost: MoneyText(.zero), billed: false, reason: "free number"))
            }
            guard let rate = self.engine.rates.select(extension: ext, number: number, secondOfDay: secondOfDay) else {
                return try Response.json(Quote(extensionNumber: ext, number: number, start: start, durationSeconds: seconds,
                                               rate: nil, cost: MoneyText(.zero), billed: false,
                                               reason: policy.noRatePolicy == .deny ? "no rate: the call would be denied"
                                                   : "no rate: the call would be allowed unbilled"))
            }
            let cost = try rate.tariff.cost(billableMillis: seconds * 1000)
            return try Response.json(Quote(extensionNumber: ext, number: number, start: start, durationSeconds: seconds,
                                           rate: RateView(rate), cost: MoneyText(cost), billed: true, reason: nil))
        }
        api.get("/rates/:id") { request, context in
            _ = try self.authorize(request, .billing)
            return try Response.json(RateView(try self.rate(context)))
        }
        api.put("/rates/:id") { request, context in
            _ = try self.authorize(request, .billing)
            let existing = try self.rate(context)
            let view = try await request.decodeJSON(RateView.self)
            if let id = view.id, id != existing.id { throw APIError.invalid("id in the body differs from the path", field: "id") }
            let rate = try view.rate(id: existing.id)
            try await self.engine.saveRate(rate)
            return try Response.json(RateView(rate))
        }
        api.delete("/rates/:id") { request, context in
            _ = try self.authorize(request, .billing)
            try await self.engine.deleteRate(id: try self.rate(context).id)
            return Response(status: .noContent)
        }
        api.post("/rates/:id/activate") { request, context in
            _ = try self.authorize(request, .billing)
            var rate = try self.rate(context)
            rate.active = true
            try await self.engine.saveRate(rate)
            return try Response.json(RateView(rate))
        }
        api.post("/rates/:id/deactivate") { request, context in
            _ = try self.authorize(request, .billing)
            var rate = try self.rate(context)
            rate.active = false
            try await self.engine.saveRate(rate)
            return try Response.json(RateView(rate))
        }
        api.put("/rates/:id/extensions") { request, context in
            _ = try self.authorize(request, .billing)
            var rate = try self.rate(context)
            let assignment = try await request.decodeJSON(Assignment.self)
            guard assignment.extensions.count <= 100_000 else {
                throw APIError.invalid("at most 100,000 extensions per rate", field: "extensions")
            }
            for number in assignment.extensions { try ExtensionAccount.validate(number: number) }
            rate.extensions = Set(assignment.extensions)
            try await self.engine.saveRate(rate)
            return try Response.json(RateView(rate))
        }
    }

    private func rate(_ context: BasicRequestContext) throws -> Rate {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), let rate = engine.rates.rates[id] else {
            throw APIError.notFound("no rate \(text.prefix(20))", field: "id")
        }
        return rate
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
