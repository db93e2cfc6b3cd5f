import Foundation
import Hummingbird
import Ledger

extension AdminAPI {
    struct LoginRequest: Decodable { var user: String; var password: String }
    struct LoginReply: Encodable { var token: String; var user: String; var role: StoredUser.Role; var expiresAt: Int64 }
    struct PasswordChange: Decodable { var currentPassword: String; var newPassword: String }
    struct Me: Encodable { var user: String; var role: StoredUser.Role; var expiresAt: Int64 }

    func addAuthRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.post("/auth/login") { request, _ in
            let login = try await request.decodeJSON(LoginRequest.self)
            let now = self.engine.nowMillis()
            let name = String(login.user.prefix(64))
            if let wait = self.sessions.throttled(user: name, now: now) {
                var error = APIError(.tooManyRequests, "RESOURCE_EXHAUSTED",
                                     "too many failed sign-ins for this user; try again later")
                error.extraHeaders["Retry-After"] = String((wait + 999) / 1000)
                throw error
            }
            guard login.password.utf8.count <= 72, let user = try await self.ledger.user(named: name),
                try await PasswordPolicy.verify(login.password, hash: user.passwordHash)
            else {
                self.sessions.recordFailure(user: name, now: now)
                self.metrics.loginFailures.increment()
                throw APIError(.unauthorized, "UNAUTHENTICATED", "wrong user name or password")
            }
            if user.role == .billing, let refusal = self.activation.billingUsersRefusal(
                billingEnabled: self.engine.policy.billingActive, now: now)
            {
                throw APIError.forbidden(refusal)
            }
            let (token, session) = self.sessions.open(user: user.name, role: user.role, now: now)
            self.logger.info("signed in", metadata: ["user": "\(user.name)", "role": "\(user.role.rawValue)"])
            return try Response.json(LoginReply(token: token, user: user.name, role: user.role,
                                                expiresAt: session.expiresAt))
        }
        api.post("/auth/logout") { request, _ in
            if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
                self.sessions.close(token: String(header.dropFirst(7)))
            }
            return Response(status: .noContent)
        }
        api.get("/auth/me") { request, _ in
            let session = try self.anySession(request)
            return try Response.json(Me(user: session.user, role: session.role, expiresAt: session.expiresAt))
        }
        api.post("/auth/password") { request, _ in
            let session = try self.anySession(request)
            let change = try await request.decodeJSON(PasswordChange.self)
            try PasswordPolicy.validate(change.newPassword)
            guard change.currentPassword.utf8.count <= 72, let user = try await self.ledger.user(named: session.user),
                try await PasswordPolicy.verify(change.currentPassword, hash: user.passwordHash)
            else { throw APIError(.unauthorized, "UNAUTHENTICATED", "the current password is wrong") }
            let hash = try await PasswordPolicy.hash(change.newPassword, cost: self.configuration.bcryptCost)
            _ = try await self.ledger.setPassword(user: user.name, hash: hash, at: self.engine.nowMillis())
            // Other sessions of this user end; the caller signs in again with the new password.
            self.sessions.closeAll(user: user.name)
            return Response(status: .noContent)
        }
    }

    /// A valid session of either role (for the caller's own account).
    func anySession(_ request: Request) throws -> AdminSession {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let session = sessions.session(token: String(header.dropFirst(7)), now: engine.nowMillis())
        else { throw APIError.unauthenticated }
        return session
    }
}
