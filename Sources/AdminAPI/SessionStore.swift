import Crypto
import Foundation
import Ledger
import Synchronization

/// A signed-in user's session, found by its bearer token.
struct AdminSession: Sendable, Hashable {
    var user: String
    var role: StoredUser.Role
    var expiresAt: Int64
}

/// Sessions (in memory: a restart signs everyone out) and login throttling, on the engine's clock.
///
/// Tokens are 256 random bits; only their SHA-256 is kept, so a memory dump does not hand out sessions.
final class SessionStore: Sendable {
    /// Sessions idle longer than this end.
    let idleMillis: Int64
    /// Failed sign-ins allowed per user name within `throttleWindowMillis` before sign-in is refused for it.
    let maxFailures: Int
    let throttleWindowMillis: Int64

    private struct State {
        var sessions: [String: AdminSession] = [:]
        var failures: [String: [Int64]] = [:]
    }

    private let state = Mutex(State())

    init(idleMillis: Int64 = 8 * 3_600_000, maxFailures: Int = 5, throttleWindowMillis: Int64 = 15 * 60_000) {
        self.idleMillis = idleMillis
        self.maxFailures = maxFailures
        self.throttleWindowMillis = throttleWindowMillis
    }

    /// Starts a session; returns its token.
    func open(user: String, role: StoredUser.Role, now: Int64) -> (token: String, session: AdminSession) {
        let token = Self.randomToken()
        let session = AdminSession(user: user, role: role, expiresAt: now + idleMillis)
        state.withLock { state in
            state.sessions = state.sessions.filter { $0.value.expiresAt > now }
            state.sessions[Self.digest(token)] = session
            state.failures[user] = nil
        }
        return (token, session)
    }

    /// The session of a token, extended by the idle time; nil when unknown or expired.
    func session(token: String, now: Int64) -> AdminSession? {
        let key = Self.digest(token)
        return state.withLock { state in
            guard var session = state.sessions[key] else { return nil }
            guard session.expiresAt > now else {
                state.sessions[key] = nil
                return nil
            }
            session.expiresAt = now + idleMillis
            state.sessions[key] = session
            return session
        }
    }

    func close(token: String) { state.withLock { _ = $0.sessions.removeValue(forKey: Self.digest(token)) } }

    /// Ends every session of a user (password changed or user deleted).
    func closeAll(user: String) { state.withLock { $0.sessions = $0.sessions.filter { $0.value.user != user } } }

    /// Milliseconds until the user may try again, or nil when sign-in is allowed now.
    func throttled(user: String, now: Int64) -> Int64? {
        state.withLock { state in
            let recent = (state.failures[user] ?? []).filter { $0 > now - throttleWindowMillis }
            state.failures[user] = recent.isEmpty ? nil : recent
            guard recent.count >= maxFailures, let oldest = recent.first else { return nil }
            return oldest + throttleWindowMillis - now
        }
    }

    func recordFailure(user: String, now: Int64) {
        state.withLock { state in
            var list = state.failures[user] ?? []
            list.append(now)
            state.failures[user] = Array(list.suffix(maxFailures))
            // Bounded memory under a spray of made-up names.
            if state.failures.count > 100_000 { state.failures = state.failures.filter { $0.value.last! > now - throttleWindowMillis } }
        }
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
