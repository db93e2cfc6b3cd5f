import Administration
import Foundation
import Hummingbird
import Ledger

extension AdminConsole {
    struct SignInContent {
        var user: String
        var next: String
        var problem: String?
    }

    struct PasswordContent {
        var form: FormState
    }

    func addSignInRoutes(_ router: Router<AdminRequestContext>) {
        router.get("/") { request, _ in
            guard let token = request.cookies[ConsoleSessionMiddleware.cookieName]?.value,
                let session = try await operations.session(token: token)
            else { return Response.redirect(to: "/login", type: .normal) }
            return Response.redirect(to: session.role == .admin ? "/admin/billing" : "/extensions", type: .normal)
        }
        router.get("/login") { request, context in
            try await render("login", title: "Sign in", request, context, section: "",
                             content: SignInContent(user: "", next: Self.safeNext(request.uri.queryParameters.get("next")),
                                                    problem: nil))
        }
        router.post("/login") { request, context in
            try ConsoleSessionMiddleware.checkOrigin(request)
            var request = request
            let form = try await FormFields.read(&request)
            let name = form.first("user") ?? ""
            let next = Self.safeNext(form.first("next"))
            do {
                let (token, session) = try await operations.signIn(user: name, password: form.first("password") ?? "")
                // A session that came with the request ends: each sign-in gets a new session id.
                if let old = request.cookies[ConsoleSessionMiddleware.cookieName]?.value {
                    try await operations.signOut(token: old)
                }
                let home = session.role == .admin ? "/admin/billing" : "/extensions"
                let destination = !next.isEmpty && next.hasPrefix(session.role == .admin ? "/admin" : "/")
                    && (session.role == .admin || !next.hasPrefix("/admin")) ? next : home
                var response = redirect(destination, "Signed in as \(session.user).")
                response.setCookie(sessionCookie(token))
                return response
            } catch let error as APIError {
                var response = try await render("login", title: "Sign in", request, context, section: "",
                                                content: SignInContent(user: name, next: next, problem: error.message),
                                                status: error.status)
                if let retry = error.extraHeaders["Retry-After"] { response.headers[.retryAfter] = retry }
                return response
            }
        }
        router.post("/logout") { request, _ in
            try ConsoleSessionMiddleware.checkOrigin(request)
            var request = request
            let form = try await FormFields.read(&request)
            if let token = request.cookies[ConsoleSessionMiddleware.cookieName]?.value,
                let session = try await operations.session(token: token)
            {
                guard let sent = form.first("_csrf"), ConsoleSessionMiddleware.constantTimeEqual(sent, session.csrfToken)
                else { throw ConsoleFailure(.forbidden, "This form did not come from this console; you are still signed in.") }
                try await operations.signOut(token: token)
            }
            var response = redirect("/login", "Signed out.")
            response.setCookie(Cookie(name: ConsoleSessionMiddleware.cookieName, value: "", maxAge: 0, path: "/",
                                      secure: secureCookies, httpOnly: true, sameSite: .strict))
            return response
        }
    }

    func addAccountRoutes(_ account: RouterGroup<AdminRequestContext>) {
        account.get("/password") { request, context in
            try await render("password", title: "Change password", request, context, section: "",
                             content: PasswordContent(form: FormState()))
        }
        account.post("/password") { request, context in
            var request = request
            let form = try await FormFields.read(&request)
            do {
                try await operations.changePassword(try context.requireSession(), current: form.first("currentPassword") ?? "",
                                                    new: form.first("newPassword") ?? "")
            } catch let error as APIError {
                var state = FormState()
                state.record(error)
                return try await render("password", title: "Change password", request, context, section: "",
                                        content: PasswordContent(form: state), status: error.status)
            }
            var response = redirect("/login", "Password changed. Sign in with the new password.")
            response.setCookie(Cookie(name: ConsoleSessionMiddleware.cookieName, value: "", maxAge: 0, path: "/",
                                      secure: secureCookies, httpOnly: true, sameSite: .strict))
            return response
        }
    }

    func sessionCookie(_ token: String) -> Cookie {
        Cookie(name: ConsoleSessionMiddleware.cookieName, value: token, path: "/", secure: secureCookies,
               httpOnly: true, sameSite: .strict)
    }

    /// A path on this console to go back to after signing in (never another site).
    static func safeNext(_ text: String?) -> String {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\"), text.count < 200 else { return "" }
        return text
    }

    func addAssetRoutes(_ router: Router<AdminRequestContext>) {
        router.get("/static/:name") { _, context in
            guard let asset = renderer.assets[try context.parameters.require("name")] else {
                throw HTTPError(.notFound)
            }
            var headers = HTTPFields()
            headers[.contentType] = asset.contentType
            headers[.cacheControl] = "public, max-age=31536000, immutable"
            headers[.eTag] = "\"\(asset.version)\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
        }
    }
}
