public import Hummingbird
import Ledger

/// The request context of the administration surfaces: the session a middleware found for the request.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the API's bearer middleware or the console's cookie middleware once the role was checked.
    package var session: AdminSession?
    /// The token the session was found by (to end it at sign-out).
    package var sessionToken: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The request's session; only routes behind a session middleware call it.
    package func requireSession() throws -> AdminSession {
        guard let session else { throw APIError.unauthenticated }
        return session
    }
}
