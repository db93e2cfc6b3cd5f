import GRDB

/// A signed-in session as stored: the digest of its token, never the token.
public struct StoredSession: Sendable, Hashable {
    public var tokenDigest: String
    public var user: String
    public var role: StoredUser.Role
    /// The token a console form must carry (it is not a secret that opens the session by itself).
    public var csrfToken: String
    public var expiresAt: Int64

    public init(tokenDigest: String, user: String, role: StoredUser.Role, csrfToken: String, expiresAt: Int64) {
        self.tokenDigest = tokenDigest
        self.user = user
        self.role = role
        self.csrfToken = csrfToken
        self.expiresAt = expiresAt
    }
}

extension SQLiteLedger {
    /// Sessions that have not expired at `now`; expired ones are deleted.
    public func sessions(now: Int64) async throws -> [StoredSession] {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at <= ?", arguments: [now])
            return try Row.fetchAll(db, sql: "SELECT * FROM sessions").compactMap { row in
                guard let role = StoredUser.Role(rawValue: row["role"]) else { return nil }
                return StoredSession(tokenDigest: row["token_digest"], user: row["user"], role: role,
                                     csrfToken: row["csrf_token"], expiresAt: row["expires_at"])
            }
        }
    }

    /// Stores a session, or moves its expiry. Committed on return.
    public func saveSession(_ session: StoredSession) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO sessions (token_digest, user, role, csrf_token, expires_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(token_digest) DO UPDATE SET expires_at = excluded.expires_at
                """, arguments: [session.tokenDigest, session.user, session.role.rawValue, session.csrfToken,
                                 session.expiresAt])
        }
    }

    /// Ends one session. Committed on return.
    public func deleteSession(tokenDigest: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_digest = ?", arguments: [tokenDigest])
        }
    }

    /// Ends every session of a user (a password change, a reset, a deletion). Committed on return.
    public func deleteSessions(user: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM sessions WHERE user = ?", arguments: [user]) }
    }
}
