import Administration
import Foundation
import Hummingbird
import Ledger

/// Admits a console request whose session cookie opens a session of `role` (nil: either role).
///
/// Without a session the browser is sent to the sign-in page; with the wrong role it gets a 403 page. A POST
/// must come from this site (its `Origin`, when sent, names this host) and carry the session's CSRF token in
/// `_csrf`; otherwise it is refused before its handler runs, so nothing changes.
struct ConsoleSessionMiddleware<C: Clock>: RouterMiddleware where C.Duration == Duration {
    static var cookieName: String { "tg_session" }

    let operations: AdminOperations<C>
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
            throw ConsoleFailure(.forbidden, error.message)
        }
        var request = request
        if request.method == .post {
            try ConsoleSessionMiddleware.checkOrigin(request)
            let form = try await FormFields.read(&request)
            guard let sent = form.first("_csrf"), Self.constantTimeEqual(sent, session.csrfToken) else {
                throw ConsoleFailure(.forbidden, "This form has expired or did not come from this console; nothing was changed. Reload the page and try again.")
            }
        }
        var context = context
        context.session = session
        context.sessionToken = token
        return try await next(request, context)
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

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }
}
