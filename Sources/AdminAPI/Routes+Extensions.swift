import BillingCore
import Foundation
import Hummingbird

extension AdminAPI {
    struct NewExtension: Decodable { var number: String; var userName: String? }
    struct BulkEdit: Decodable { var numbers: [String]; var changes: ExtensionPatch }

    func addExtensionRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("/extensions") { request, _ in
            _ = try self.authorize(request, .billing)
            let number = request.query("number")
            let status = try request.queryChoice("status").map { text in
                guard let value = ExtensionStatus(rawValue: text) else {
                    throw APIError.invalid("status must be locked or unlocked", field: "status")
                }
                return value
            }
            let payment = try request.queryChoice("paymentType").map { text in
                guard let value = PaymentType(rawValue: text) else {
                    throw APIError.invalid("paymentType must be prepaid or postpaid", field: "paymentType")
                }
                return value
            }
            let billing = try request.queryBool("billingEnabled")
            let limit = try request.query("limit", in: 1...10_000, default: 100)
            let offset = try request.query("offset", in: 0...Int(Int32.max), default: 0)
            let matching = await self.engine.extensionAccounts().filter { account in
                (number.map { account.number.contains($0) || account.userName.localizedCaseInsensitiveContains($0) } ?? true)
                    && (status.map { account.status == $0 } ?? true)
                    && (payment.map { account.paymentType == $0 } ?? true)
                    && (billing.map { account.billingEnabled == $0 } ?? true)
            }
            let items = matching.dropFirst(offset).prefix(limit).map(ExtensionView.init)
            return try Response.json(Page(items: Array(items), total: matching.count, limit: limit, offset: offset))
        }
        api.post("/extensions") { request, _ in
            _ = try self.authorize(request, .billing)
            let new = try await request.decodeJSON(NewExtension.self)
            if let name = new.userName, name.utf8.count > 128 {
                throw APIError.invalid("user name must be at most 128 bytes", field: "userName")
            }
            let existed = await self.engine.extensionAccount(number: new.number) != nil
            let account = try await self.engine.ensureExtension(number: new.number, userName: new.userName)
            return try Response.json(ExtensionView(account), status: existed ? .ok : .created)
        }
        api.get("/extensions/:number") { request, context in
            _ = try self.authorize(request, .billing)
            return try Response.json(ExtensionView(try await self.account(context.parameters.require("number"))))
        }
        api.patch("/extensions/:number") { request, context in
            let session = try self.authorize(request, .billing)
            let number = try context.parameters.require("number")
            let patch = try await request.decodeJSON(ExtensionPatch.self)
            try patch.change.validate()
            _ = try await self.account(number)
            let account = try await self.engine.updateExtension(number: number, patch.change)
            self.logger.info("extension edited", metadata: ["user": "\(session.user)", "extension": "\(number)"])
            return try Response.json(ExtensionView(account))
        }
        api.post("/extensions/bulk") { request, _ in
            _ = try self.authorize(request, .billing)
            let bulk = try await request.decodeJSON(BulkEdit.self)
            guard (1...10_000).contains(bulk.numbers.count) else {
                throw APIError.invalid("numbers must list 1 to 10,000 extensions", field: "numbers")
            }
            guard bulk.changes.userName == nil else {
                throw APIError.invalid("a bulk edit cannot set user names", field: "changes.userName")
            }
            guard !bulk.changes.isEmpty else { throw APIError.invalid("changes is empty", field: "changes") }
            try bulk.changes.change.validate()
            var results: [ItemResult] = []
            for number in bulk.numbers {
                do {
                    _ = try await self.account(number)
                    let account = try await self.engine.updateExtension(number: number, bulk.changes.change)
                    results.append(ItemResult(number: number, ok: true, extension: ExtensionView(account)))
                } catch {
                    let apiError = APIError(error)
                    results.append(ItemResult(number: number, ok: false, error: apiError.message, code: apiError.code))
                }
            }
            return try Response.json(results)
        }
    }

    func account(_ number: String) async throws -> ExtensionAccount {
        guard let account = await engine.extensionAccount(number: number) else {
            throw APIError.notFound("no extension \(number.prefix(32))", field: "number")
        }
        return account
    }
}
