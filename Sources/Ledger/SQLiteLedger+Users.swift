import GRDB

/// A user of the administration surface, as stored (the password only as its hash).
public struct StoredUser: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        /// The PBX administrator: activation, license, billing users.
        case admin
        /// A billing manager: extensions, rates, recharges, call log, statistics, settings.
        case billing
    }

    public var name: String
    public var role: Role
    public var passwordHash: String
    public var createdAt: Int64
    public var passwordChangedAt: Int64

    public init(name: String, role: Role, passwordHash: String, createdAt: Int64, passwordChangedAt: Int64) {
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.passwordChangedAt = passwordChangedAt
    }
}

extension SQLiteLedger {
    /// Every user, by name.
    public func users() async throws -> [StoredUser] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").compactMap(Self.user) }
    }

    public func user(named name: String) async throws -> StoredUser? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).flatMap(Self.user)
        }
    }

    /// Creates a user; false when the name is taken. Committed on return.
    public func insertUser(_ user: StoredUser) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
                VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING
                """, arguments: [user.name, user.role.rawValue, user.passwordHash, user.createdAt, user.passwordChangedAt])
            return db.changesCount == 1
        }
    }

    /// Replaces a user's password hash; false for an unknown user. Committed on return.
    public func setPassword(user name: String, hash: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?",
                           arguments: [hash, at, name])
            return db.changesCount == 1
        }
    }

    /// Deletes a user; false for an unknown one.
    public func deleteUser(named name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM users WHERE name = ?", arguments: [name])
            return db.changesCount == 1
        }
    }

    /// The committed settings, by key.
    public func settings() async throws -> [String: String] {
        try await pool.read { db in
            var settings: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") { settings[row["key"]] = row["value"] }
            return settings
        }
    }

    private static func user(_ row: Row) -> StoredUser? {
        guard let role = StoredUser.Role(rawValue: row["role"]) else { return nil }
        return StoredUser(name: row["name"], role: role, passwordHash: row["password_hash"],
                          createdAt: row["created_at"], passwordChangedAt: row["password_changed_at"])
    }
}
