import Crypto
import Foundation
package import Ledger
import Synchronization

/// A signed-in user's session, found by its token (a bearer token for the API, a cookie for the console).
package struct AdminSession: Sendable, Hashable {
    package var user: String
    package var role: StoredUser.Role
    package var expiresAt: Int64
    /// What every state-changing console form must carry: a page of another site cannot read it.
    package var csrfToken: String

    package init(user: String, role: StoredUser.Role, expiresAt: Int64, csrfToken: String) {
        self.user = user
        self.role = role
        self.expiresAt = expiresAt
        self.csrfToken = csrfToken
    }
}

/// Sessions and sign-in throttling, on the engine's clock.
///
/// Sessions survive a restart: each is stored in the ledger under the SHA-256 of its token (256 random bits), so
/// neither a memory dump nor a copy of the database hands one out. Reads are served from memory; the stored
/// expiry is moved only when it lags by more than `persistLagMillis`, so a busy session does not write at every
/// request (after a restart it may end that much earlier than it would have).
package final class SessionStore: Sendable {
    /// Sessions idle longer than this end.
    package let idleMillis: Int64
    /// Failed sign-ins allowed per user name within `throttleWindowMillis` before sign-in is refused for it.
    package let maxFailures: Int
    package let throttleWindowMillis: Int64
    package let persistLagMillis: Int64 = 5 * 60_000

    private struct Entry {
        var session: AdminSession
        var storedExpiresAt: Int64
    }

    private struct State {
        var sessions: [String: Entry] = [:]
        var failures: [String: [Int64]] = [:]
    }

    private let ledger: SQLiteLedger
    private let state = Mutex(State())

    package init(ledger: SQLiteLedger, idleMillis: Int64 = 8 * 3_600_000, maxFailures: Int = 5,
                 throttleWindowMillis: Int64 = 15 * 60_000) {
        self.ledger = ledger
        self.idleMillis = idleMillis
        self.maxFailures = maxFailures
        self.throttleWindowMillis = throttleWindowMillis
    }

    /// Reads the sessions a previous run left (expired ones are dropped).
    package func restore(now: Int64) async throws {
        let stored = try await ledger.sessions(now: now)
        state.withLock { state in
            for session in stored {
                state.sessions[session.tokenDigest] = Entry(
                    session: AdminSession(user: session.user, role: session.role, expiresAt: session.expiresAt,
                                          csrfToken: session.csrfToken),
                    storedExpiresAt: session.expiresAt)
            }
        }
    }

    /// Starts a session with a new token; returns the token. Committed on return.
    package func open(user: String, role: StoredUser.Role, now: Int64) async throws
        -> (token: String, session: AdminSession)
    {
        let token = Self.randomToken()
        let session = AdminSession(user: user, role: role, expiresAt: now + idleMillis, csrfToken: Self.randomToken())
        let digest = Self.digest(token)
        try await ledger.saveSession(StoredSession(tokenDigest: digest, user: user, role: role,
                                                   csrfToken: session.csrfToken, expiresAt: session.expiresAt))
        state.withLock { state in
            state.sessions = state.sessions.filter { $0.value.session.expiresAt > now }
            state.sessions[digest] = Entry(session: session, storedExpiresAt: session.expiresAt)
            state.failures[user] = nil
        }
        return (token, session)
    }

    /// The session of a token, extended by the idle time; nil when unknown or expired.
    package func session(token: String, now: Int64) async throws -> AdminSession? {
        let digest = Self.digest(token)
        let (session, persist) = state.withLock { state -> (AdminSession?, StoredSession?) in
            guard var entry = state.sessions[digest] else { return (nil, nil) }
            guard entry.session.expiresAt > now else {
                state.sessions[digest] = nil
                return (nil, nil)
            }
            entry.session.expiresAt = now + idleMillis
            var persist: StoredSession?
            if entry.session.expiresAt - entry.storedExpiresAt > persistLagMillis {
                entry.storedExpiresAt = entry.session.expiresAt
                persist = StoredSession(tokenDigest: digest, user: entry.session.user, role: entry.session.role,
                                        csrfToken: entry.session.csrfToken, expiresAt: entry.session.expiresAt)
            }
            state.sessions[digest] = entry
            return (entry.session, persist)
        }
        if let persist { try await ledger.saveSession(persist) }
        return session
    }

    /// Ends a session on the server. Committed on return.
    package func close(token: String) async throws {
        let digest = Self.digest(token)
        state.withLock { _ = $0.sessions.removeValue(forKey: digest) }
        try await ledger.deleteSession(tokenDigest: digest)
    }

    /// Ends every session of a user (password changed or user deleted). Committed on return.
    package func closeAll(user: String) async throws {
        state.withLock { $0.sessions = $0.sessions.filter { $0.value.session.user != user } }
        try await ledger.deleteSessions(user: user)
    }

    /// Milliseconds until the user may try again, or nil when sign-in is allowed now.
    package func throttled(user: String, now: Int64) -> Int64? {
        state.withLock { state in
            let recent = (state.failures[user] ?? []).filter { $0 > now - throttleWindowMillis }
            state.failures[user] = recent.isEmpty ? nil : recent
            guard recent.count >= maxFailures, let oldest = recent.first else { return nil }
            return oldest + throttleWindowMillis - now
        }
    }

    package func recordFailure(user: String, now: Int64) {
        state.withLock { state in
            var list = state.failures[user] ?? []
            list.append(now)
            state.failures[user] = Array(list.suffix(maxFailures))
            // Bounded memory under a spray of made-up names.
            if state.failures.count > 100_000 { state.failures = state.failures.filter { $0.value.last! > now - throttleWindowMillis } }
        }
    }

    package static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
