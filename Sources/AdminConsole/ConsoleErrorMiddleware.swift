import Administration
import Foundation
import HTTPTypes
import Hummingbird
import Journal
import Metering

/// Sets the console's security headers on every page, and turns an error into an error page (the API's paths,
/// skipped here, answer JSON).
struct ConsoleErrorMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    let renderer: ConsoleRenderer
    let skippedPrefixes: [String]

    /// No inline script, nothing loaded from elsewhere, never inside a frame.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if skippedPrefixes.contains(where: { path.hasPrefix($0) }) { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = errorPage(error, path: path, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    private func errorPage(_ error: any Error, path: String, context: Context) -> Response {
        let failure = error as? ConsoleFailure ?? ConsoleFailure(error, session: nil)
        if failure.status == .internalServerError {
            context.logger.error("console request failed",
                                 metadata: .fields([.path: "\(path)", .error: "\(failure.underlying ?? error)"]))
        }
        let (status, message) = (failure.status, failure.message)
        var chrome = Chrome()
        if let session = failure.session {
            chrome.user = session.user
            chrome.isAdmin = session.role == .admin
            chrome.isBilling = session.role == .billing
            chrome.csrf = session.csrfToken
            let menu = session.role == .admin ? AdminConsole.adminMenu : AdminConsole.billingMenu
            chrome.nav = menu.map { NavItem(label: $0.0, href: $0.1, current: false) }
        }
        return renderer.page("error", title: status == .notFound ? "Not found" : "Not done", chrome: chrome,
                             content: ErrorContent(status: Int(status.code), message: message,
                                                   signIn: status == .unauthorized), status: status)
    }
}

struct ErrorContent {
    var status: Int
    var message: String
    var signIn: Bool
}
