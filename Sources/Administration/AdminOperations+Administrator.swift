package import Foundation
package import Ledger

/// A user as the administrator sees it.
package struct UserView: Codable, Sendable {
    package var name: String
    package var role: StoredUser.Role
    package var createdAt: Int64
    package var passwordChangedAt: Int64
}

/// A billing user's name and its generated password, shown once.
package struct Credentials: Codable, Sendable {
    package var name: String
    package var password: String
}

extension AdminOperations {
    package func activationStatus() -> Activation.Status {
        activation.status(billingEnabled: engine.policy.billingActive, now: engine.nowMillis())
    }

    /// Switches billing on or off; the first switch-on starts the trial.
    package func setBilling(enabled: Bool, by session: AdminSession) async throws -> Activation.Status {
        var policy = engine.policy
        if policy.billingActive != enabled {
            policy.billingActive = enabled
            try await engine.setPolicy(policy)
        }
        if enabled { try await recordActivation() }
        logger.notice("billing switched \(enabled ? "on" : "off")", metadata: .fields([.user: "\(session.user)"]))
        return activationStatus()
    }

    /// The device's license source file (`billing.ac`), for the vendor to sign.
    package func licenseSource() throws -> Data {
        try JSONEncoder.api.encode(activation.source(version: configuration.version, now: engine.nowMillis()))
    }

    /// Installs a license: refused (and nothing changed) for another device's, a tampered or a forged one.
    package func installLicense(_ bytes: [UInt8], by session: AdminSession) throws -> Activation.Status {
        do {
            let license = try activation.install(bytes)
            logger.notice("license installed", metadata: .fields([.user: "\(session.user)", .licensee: "\(license.licensee)"]))
        } catch let error as LicenseError {
            throw APIError(.unprocessableContent, "INVALID_LICENSE", error.description, field: "license")
        }
        return activationStatus()
    }

    package func users() async throws -> [UserView] {
        try await ledger.users().map {
            UserView(name: $0.name, role: $0.role, createdAt: $0.createdAt, passwordChangedAt: $0.passwordChangedAt)
        }
    }

    /// Creates a billing user (`bill-` and a random suffix unless named) with a random password.
    package func createBillingUser(named requested: String?) async throws -> Credentials {
        let name = try requested.map(Self.validBillingUserName) ?? Self.generatedBillingUserName()
        let password = PasswordPolicy.generate()
        let hash = try await PasswordPolicy.hash(password, cost: configuration.bcryptCost)
        let now = engine.nowMillis()
        guard try await ledger.insertUser(StoredUser(name: name, role: .billing, passwordHash: hash,
                                                     createdAt: now, passwordChangedAt: now))
        else { throw APIError(.conflict, "ALREADY_EXISTS", "user \(name) exists", field: "name") }
        logger.notice("billing user created", metadata: .fields([.user: "\(name)"]))
        // The password is shown once, here; only its hash is kept.
        return Credentials(name: name, password: password)
    }

    package func deleteBillingUser(named name: String) async throws {
        _ = try await billingUser(name)
        _ = try await ledger.deleteUser(named: name)
        try await sessions.closeAll(user: name)
        logger.notice("billing user deleted", metadata: .fields([.user: "\(name)"]))
    }

    /// A new random password for a billing user; its sessions end.
    package func resetPassword(of name: String) async throws -> Credentials {
        _ = try await billingUser(name)
        let password = PasswordPolicy.generate()
        let hash = try await PasswordPolicy.hash(password, cost: configuration.bcryptCost)
        _ = try await ledger.setPassword(user: name, hash: hash, at: engine.nowMillis())
        try await sessions.closeAll(user: name)
        return Credentials(name: name, password: password)
    }

    private func billingUser(_ name: String) async throws -> StoredUser {
        guard let user = try await ledger.user(named: name), user.role == .billing else {
            throw APIError.notFound("no billing user \(name.prefix(64))", field: "name")
        }
        return user
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
