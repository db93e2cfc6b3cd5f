import Administration
import Foundation
import Hummingbird
import Ledger

extension AdminAPI {
    struct BillingSwitch: Decodable { var enabled: Bool }
    struct NewUser: Decodable { var name: String? }

    func addAdminRoutes(_ admin: RouterGroup<AdminRequestContext>) {
        admin.get("/billing") { _, _ in try Response.json(operations.activationStatus()) }
        admin.put("/billing") { request, context in
            let change = try await request.decodeJSON(BillingSwitch.self)
            return try Response.json(try await operations.setBilling(enabled: change.enabled, by: context.requireSession()))
        }
        admin.get("/license/source") { _, _ in
            Response.download(Array(try operations.licenseSource()), contentType: "application/json", fileName: "billing.ac")
        }
        admin.post("/license") { request, context in
            let bytes = try await request.bodyBytes(limit: 16_384)
            return try Response.json(try operations.installLicense(bytes, by: context.requireSession()))
        }
        admin.get("/users") { _, _ in try Response.json(try await operations.users()) }
        admin.post("/users") { request, _ in
            var requested: NewUser?
            if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 {
                requested = try await request.decodeJSON(NewUser.self)
            }
            return try Response.json(try await operations.createBillingUser(named: requested?.name), status: .created)
        }
        admin.delete("/users/:name") { _, context in
            try await operations.deleteBillingUser(named: try context.parameters.require("name"))
            return Response(status: .noContent)
        }
        admin.post("/users/:name/password") { _, context in
            try Response.json(try await operations.resetPassword(of: try context.parameters.require("name")))
        }
    }
}
