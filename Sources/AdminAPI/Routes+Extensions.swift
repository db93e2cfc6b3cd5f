import Administration
import BillingCore
import Foundation
import Hummingbird

extension AdminAPI {
    struct NewExtension: Decodable { var number: String; var userName: String? }
    struct BulkEdit: Decodable { var numbers: [String]; var changes: ExtensionPatch }

    func addExtensionRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.get("/extensions") { request, _ in
            let filter = ExtensionFilter(
                text: request.query("number"),
                status: try request.queryChoice("status").map { text in
                    guard let value = ExtensionStatus(rawValue: text) else {
                        throw APIError.invalid("status must be locked or unlocked", field: "status")
                    }
                    return value
                },
                paymentType: try request.queryChoice("paymentType").map { text in
                    guard let value = PaymentType(rawValue: text) else {
                        throw APIError.invalid("paymentType must be prepaid or postpaid", field: "paymentType")
                    }
                    return value
                },
                billingEnabled: try request.queryBool("billingEnabled"))
            let limit = try request.query("limit", in: 1...10_000, default: 100)
            let offset = try request.query("offset", in: 0...Int(Int32.max), default: 0)
            let page = await operations.extensions(filter, limit: limit, offset: offset)
            return try Response.json(Page(items: page.items.map(ExtensionView.init), total: page.total, limit: limit,
                                          offset: offset))
        }
        api.post("/extensions") { request, _ in
            let new = try await request.decodeJSON(NewExtension.self)
            let (account, created) = try await operations.addExtension(number: new.number, userName: new.userName)
            return try Response.json(ExtensionView(account), status: created ? .created : .ok)
        }
        api.get("/extensions/:number") { _, context in
            try Response.json(ExtensionView(try await operations.account(context.parameters.require("number"))))
        }
        api.patch("/extensions/:number") { request, context in
            let patch = try await request.decodeJSON(ExtensionPatch.self)
            let account = try await operations.editExtension(number: try context.parameters.require("number"), patch,
                                                             by: try context.requireSession())
            return try Response.json(ExtensionView(account))
        }
        api.post("/extensions/bulk") { request, _ in
            let bulk = try await request.decodeJSON(BulkEdit.self)
            return try Response.json(try await operations.bulkEdit(numbers: bulk.numbers, bulk.changes))
        }
    }
}
