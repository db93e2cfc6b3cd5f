import Foundation
import Hummingbird

/// The one-line message shown on the page after a redirect ("Recharged 2 extensions"), carried in a short-lived
/// cookie so it survives the redirect without going into the URL.
enum Flash {
    static let cookieName = "tg_flash"

    /// A redirect to `location` that shows `message` there; `error` shows it as a failure.
    static func redirect(to location: String, _ message: String, error: Bool = false, secure: Bool) -> Response {
        var response = Response.redirect(to: location, type: .normal)
        let encoded = ((error ? "!" : "") + message).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        response.setCookie(Cookie(name: cookieName, value: encoded, maxAge: 60, path: "/", secure: secure,
                                  httpOnly: true, sameSite: .strict))
        return response
    }

    /// The message a request carries, and whether it is an error.
    static func message(in request: Request) -> (text: String, error: Bool)? {
        guard let raw = request.cookies[cookieName]?.value.removingPercentEncoding, !raw.isEmpty else { return nil }
        return raw.hasPrefix("!") ? (String(raw.dropFirst().prefix(500)), true) : (String(raw.prefix(500)), false)
    }

    static var clearing: Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict)
    }
}
