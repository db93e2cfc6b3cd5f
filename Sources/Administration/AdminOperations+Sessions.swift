import Foundation
import Journal
package import Ledger

extension AdminOperations {
    /// Signs a user in with a new session (a new token each time). Throttled per user name; a billing user is
    /// refused while billing is off or after the trial without a license.
    package func signIn(user name: String, password: String) async throws -> (token: String, session: AdminSession) {
        let now = engine.nowMillis()
        let name = String(name.prefix(64))
        if let wait = sessions.throttled(user: name, now: now) {
            var error = APIError(.tooManyRequests, "RESOURCE_EXHAUSTED",
                                 "too many failed sign-ins for this user; try again later")
            error.extraHeaders["Retry-After"] = String((wait + 999) / 1000)
            throw error
        }
        guard password.utf8.count <= 72, let user = try await ledger.user(named: name),
            try await PasswordPolicy.verify(password, hash: user.passwordHash)
        else {
            sessions.recordFailure(user: name, now: now)
            metrics.loginFailures.increment()
            throw APIError(.unauthorized, "UNAUTHENTICATED", "wrong user name or password")
        }
        if user.role == .billing, let refusal = activation.billingUsersRefusal(
            billingEnabled: engine.policy.billingActive, now: now)
        {
            throw APIError.forbidden(refusal)
        }
        let opened = try await sessions.open(user: user.name, role: user.role, now: now)
        logger.info("signed in", metadata: .fields([.user: "\(user.name)", .role: "\(user.role.rawValue)"]))
        return opened
    }

    /// The live session of a token, extended by the idle time; nil when unknown or expired.
    package func session(token: String) async throws -> AdminSession? {
        try await sessions.session(token: token, now: engine.nowMillis())
    }

    /// Whether a session may use a surface meant for `role` (nil: either role). Billing users are also refused
    /// while billing is off or the trial has ended without a license.
    package func admit(_ session: AdminSession, role: StoredUser.Role?) throws {
        if let role, session.role != role {
            throw APIError.forbidden(role == .admin ? "only the administrator may do this" : "billing users only")
        }
        if session.role == .billing, let refusal = activation.billingUsersRefusal(
            billingEnabled: engine.policy.billingActive, now: engine.nowMillis())
        {
            throw APIError.forbidden(refusal)
        }
    }

    /// Ends a session on the server (idempotent).
    package func signOut(token: String) async throws { try await sessions.close(token: token) }

    /// Changes the caller's own password; every session of the user ends, this one too.
    package func changePassword(_ session: AdminSession, current: String, new: String) async throws {
        try PasswordPolicy.validate(new)
        guard current.utf8.count <= 72, let user = try await ledger.user(named: session.user),
            try await PasswordPolicy.verify(current, hash: user.passwordHash)
        else { throw APIError(.unauthorized, "UNAUTHENTICATED", "the current password is wrong", field: "currentPassword") }
        let hash = try await PasswordPolicy.hash(new, cost: configuration.bcryptCost)
        _ = try await ledger.setPassword(user: user.name, hash: hash, at: engine.nowMillis())
        try await sessions.closeAll(user: user.name)
        logger.info("password changed", metadata: .fields([.user: "\(user.name)"]))
    }
}
