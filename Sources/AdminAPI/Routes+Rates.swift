import Administration
import BillingCore
import Foundation
import Hummingbird

extension AdminAPI {
    struct Assignment: Decodable { var extensions: [String] }
    struct ImportReply: Encodable { var imported: Int; var mode: String }
    struct ImportErrors: Encodable { var code: String; var message: String; var errors: [RateCSV.LineError] }

    func addRateRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.get("/rates") { _, _ in try Response.json(operations.rates().map(RateView.init)) }
        api.post("/rates") { request, _ in
            let view = try await request.decodeJSON(RateView.self)
            return try Response.json(RateView(try await operations.createRate(view)), status: .created)
        }
        api.get("/rates/export") { _, _ in
            Response.download(Array(operations.exportRates().utf8), contentType: "text/csv; charset=utf-8",
                              fileName: "rates.csv")
        }
        api.post("/rates/import") { request, _ in
            let modeText = try request.queryChoice("mode") ?? RateImportMode.merge.rawValue
            guard let mode = RateImportMode(rawValue: modeText) else {
                throw APIError.invalid("mode must be replace or merge", field: "mode")
            }
            let bytes = try await request.bodyBytes(limit: 32 << 20)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw APIError.invalid("the file is not UTF-8 text", field: "file")
            }
            switch try await operations.importRates(text, mode: mode) {
            case .failure(let failure):
                return try Response.json(ImportErrors(
                    code: "INVALID_ARGUMENT", message: "\(failure.errors.count) bad line(s); nothing was imported",
                    errors: failure.errors), status: .badRequest)
            case .success(let count):
                return try Response.json(ImportReply(imported: count, mode: mode.rawValue))
            }
        }
        api.get("/rates/quote") { request, _ in
            guard let ext = request.query("extension"), let number = request.query("number") else {
                throw APIError.invalid("extension and number are required", field: "extension")
            }
            return try Response.json(try operations.quote(
                extension: ext, number: number, start: try request.queryTime("start") ?? operations.engine.nowMillis(),
                seconds: Int64(try request.query("duration", in: 0...(31 * 86_400), default: 60))))
        }
        api.get("/rates/:id") { _, context in try Response.json(RateView(try operations.rate(id: rateID(context)))) }
        api.put("/rates/:id") { request, context in
            let id = try rateID(context)
            _ = try operations.rate(id: id)
            let view = try await request.decodeJSON(RateView.self)
            return try Response.json(RateView(try await operations.updateRate(id: id, view)))
        }
        api.delete("/rates/:id") { _, context in
            try await operations.deleteRate(id: try rateID(context))
            return Response(status: .noContent)
        }
        api.post("/rates/:id/activate") { _, context in
            try Response.json(RateView(try await operations.setRate(id: rateID(context), active: true)))
        }
        api.post("/rates/:id/deactivate") { _, context in
            try Response.json(RateView(try await operations.setRate(id: rateID(context), active: false)))
        }
        api.put("/rates/:id/extensions") { request, context in
            let id = try rateID(context)
            _ = try operations.rate(id: id)
            let assignment = try await request.decodeJSON(Assignment.self)
            return try Response.json(RateView(try await operations.assignRate(id: id, extensions: assignment.extensions)))
        }
    }

    private func rateID(_ context: AdminRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw APIError.notFound("no rate \(text.prefix(20))", field: "id") }
        return id
    }
}
