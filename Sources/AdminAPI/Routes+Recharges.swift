import Administration
import BillingCore
import Foundation
import HTTPTypes
import Hummingbird
import Ledger

extension AdminAPI {
    struct RechargeRequest: Decodable {
        var numbers: [String]
        var amount: MoneyText
        var note: String?
    }

    func addRechargeRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.post("/recharges") { request, context in
            let recharge = try await request.decodeJSON(RechargeRequest.self)
            return try Response.json(try await operations.recharge(
                numbers: recharge.numbers, amount: recharge.amount.money, note: recharge.note ?? "",
                idempotencyKey: request.headers[HTTPField.Name("Idempotency-Key")!], by: try context.requireSession()))
        }
        api.get("/recharges") { request, _ in
            let query = try request.historyQuery()
            switch try request.queryChoice("format") ?? "json" {
            case "json":
                let page = try await operations.rechargeHistory(query)
                return try Response.json(Page(items: page.items.map(RechargeView.init), total: page.total,
                                              limit: query.limit, offset: query.offset))
            case let format:
                return try await operations.rechargeExport(query, format: format)
            }
        }
    }
}
