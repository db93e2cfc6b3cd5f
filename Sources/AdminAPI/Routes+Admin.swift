import Foundation
import Hummingbird
import Ledger

extension AdminAPI {
    struct BillingSwitch: Decodable { var enabled: Bool }
    struct UserView: Encodable { var name: String; var role: StoredUser.Role; var createdAt: Int64; var passwordChangedAt: Int64 }
    struct NewUser: Decodable { var name: String? }
    struct Credentials: Encodable { var name: String; var password: String }

    func addAdminRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("/admin/billing") { request, _ in
            _ = try self.authorize(request, .admin)
            return try Response.json(self.activationStatus())
        }
        api.put("/admin/billing") { request, _ in
            let session = try self.authorize(request, .admin)
            let change = try await request.decodeJSON(BillingSwitch.self)
            var policy = self.engine.policy
            if policy.billingActive != change.enabled {
                policy.billingActive = change.enabled
                try await self.engine.setPolicy(policy)
            }
            if change.enabled { try await self.recordActivation() }
            self.logger.notice("billing switched \(change.enabled ? "on" : "off")", metadata: ["user": "\(session.user)"])
            return try Response.json(self.activationStatus())
        }
        api.get("/admin/license/source") { request, _ in
            _ = try self.authorize(request, .admin)
            let source = self.activation.source(version: self.configuration.version, now: self.engine.nowMillis())
            let data = try JSONEncoder.api.encode(source)
            return Response.download(Array(data), contentType: "application/json", fileName: "billing.ac")
        }
        api.post("/admin/license") { request, _ in
            let session = try self.authorize(request, .admin)
            let bytes = try await request.bodyBytes(limit: 16_384)
            do {
                let license = try self.activation.install(bytes)
                self.logger.notice("license installed", metadata: ["user": "\(session.user)", "licensee": "\(license.licensee)"])
            } catch let error as LicenseError {
                throw APIError(.unprocessableContent, "INVALID_LICENSE", error.description, field: "license")
            }
            return try Response.json(self.activationStatus())
        }
        api.get("/admin/users") { request, _ in
            _ = try self.authorize(request, .admin)
            let users = try await self.ledger.users().map {
                UserView(name: $0.name, role: $0.role, createdAt: $0.createdAt, passwordChangedAt: $0.passwordChangedAt)
            }
            return try Response.json(users)
        }
        api.post("/admin/users") { request, _ in
            _ = try self.authorize(request, .admin)
            var requested: NewUser?
            if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 {
                requested = try await request.decodeJSON(NewUser.self)
            }
            let name = try requested?.name.map(Self.validBillingUserName) ?? Self.generatedBillingUserName()
            let password = PasswordPolicy.generate()
            let hash = try await PasswordPolicy.hash(password, cost: self.configuration.bcryptCost)
            let now = self.engine.nowMillis()
            guard try await self.ledger.insertUser(StoredUser(name: name, role: .billing, passwordHash: hash,
                                                              createdAt: now, passwordChangedAt: now))
            else { throw APIError(.conflict, "ALREADY_EXISTS", "user \(name) exists", field: "name") }
            // The password is shown once, here; only its hash is kept.
            return try Response.json(Credentials(name: name, password: password), status: .created)
        }
        api.delete("/admin/users/:name") { request, context in
            _ = try self.authorize(request, .admin)
            let name = try context.parameters.require("name")
            guard let user = try await self.ledger.user(named: name), user.role == .billing else {
                throw APIError.notFound("no billing user \(name.prefix(64))", field: "name")
            }
            _ = try await self.ledger.deleteUser(named: name)
            self.sessions.closeAll(user: name)
            return Response(status: .noContent)
        }
        api.post("/admin/users/:name/password") { request, context in
            _ = try self.authorize(request, .admin)
            let name = try context.parameters.require("name")
            guard let user = try await self.ledger.user(named: name), user.role == .billing else {
                throw APIError.notFound("no billing user \(name.prefix(64))", field: "name")
            }
            let password = PasswordPolicy.generate()
            let hash = try await PasswordPolicy.hash(password, cost: self.configuration.bcryptCost)
            _ = try await self.ledger.setPassword(user: name, hash: hash, at: self.engine.nowMillis())
            self.sessions.closeAll(user: name)
            return try Response.json(Credentials(name: name, password: password))
        }
    }

    func activationStatus() -> Activation.Status {
        activation.status(billingEnabled: engine.policy.billingActive, now: engine.nowMillis())
    }

    static func validBillingUserName(_ name: String) throws -> String {
        let suffix = name.utf8.dropFirst(5)
        guard name.hasPrefix("bill-"), (1...27).contains(suffix.count),
            suffix.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) })
        else { throw APIError.invalid("billing user names are bill- and 1-27 lowercase letters or digits", field: "name") }
        return name
    }

    static func generatedBillingUserName() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return "bill-" + String((0..<6).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
