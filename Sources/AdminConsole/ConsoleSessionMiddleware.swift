import Administration
import Foundation
import Hummingbird
import Ledger

/// Admits a console request whose session cookie opens a session of `role` (nil: either role).
///
/// Without a session the browser is sent to the sign-in page; with the wrong role it gets a 403 page. A POST
/// must come from this site (its `Origin`, when sent, names this host) and carry the session's CSRF token in
/// `_csrf`; otherwise it is refused before its handler runs, so nothing changes.
struct ConsoleSessionMiddleware: RouterMiddleware {
    static var cookieName: String { "tg_session" }

    let operations: AdminOperations
    let renderer: ConsoleRenderer
    let role: StoredUser.Role?

    func handle(_ request: Request, context: AdminRequestContext,
                next: (Request, AdminRequestContext) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[Self.cookieName]?.value,
            let session = try await operations.session(token: token)
        else {
            if request.method == .get {
                let next = request.uri.path == "/" ? "" : "?next=" + (request.uri.path.addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_"))) ?? "")
                return .redirect(to: "/login" + next, type: .normal)
            }
            throw ConsoleFailure(.unauthorized, "Your session has ended. Sign in again.")
        }
        do {
            try operations.admit(session, role: role)
        } catch let error as APIError {
            throw ConsoleFailure(.forbidden, error.message, session: session)
        }
        var request = request
        if request.method == .post {
            try ConsoleSessionMiddleware.checkOrigin(request)
            let form = try await FormFields.read(&request)
            guard let sent = form.first("_csrf"), Self.constantTimeEqual(sent, session.csrfToken) else {
                throw ConsoleFailure(.forbidden, "This form has expired or did not come from this console; nothing was changed. Reload the page and try again.", session: session)
            }
        }
        var context = context
        context.session = session
        context.sessionToken = token
        do {
            return try await next(request, context)
        } catch var failure as ConsoleFailure {
            failure.session = failure.session ?? session
            throw failure
        } catch {
            // The error page keeps the menu of the signed-in user.
            throw ConsoleFailure(error, session: session)
        }
    }

    /// A cross-site POST names another origin; one from this console names the host it was sent to.
    static func checkOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let host = request.head.authority ?? ""
        guard origin == "http://\(host)" || origin == "https://\(host)" else {
            throw ConsoleFailure(.forbidden, "This form was sent from another site (\(origin.prefix(100))); nothing was changed.")
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// A console error shown as a page of its own (not next to a field).
struct ConsoleFailure: Error {
    var status: HTTPResponse.Status
    var message: String
    /// The session of the request that failed, for the error page's menu.
    var session: AdminSession?
    /// What failed inside, for the log.
    var underlying: (any Error)?

    init(_ status: HTTPResponse.Status, _ message: String, session: AdminSession? = nil) {
        self.status = status
        self.message = message
        self.session = session
    }

    /// An operation's error (or Hummingbird's) as the page shows it.
    init(_ error: any Error, session: AdminSession?) {
        switch error {
        case let http as HTTPError where http.status == .notFound:
            self.init(.notFound, "There is no such page.", session: session)
        case let http as HTTPError:
            self.init(http.status, http.body ?? http.status.reasonPhrase, session: session)
        default:
            let api = APIError(error)
            self.init(api.status, api.message, session: session)
        }
        underlying = error
    }
}
