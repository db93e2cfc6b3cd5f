import Administration
import BillingCore
import Foundation
import Hummingbird
import Ledger

extension AdminConsole {
    static var billingMenu: [(String, String)] {
        [("Extensions", "/extensions"), ("Rate", "/rates"), ("Recharge History", "/recharges"), ("Call Log", "/calls"),
         ("Statistics", "/statistics"), ("Live calls", "/live"), ("Settings", "/settings")]
    }

    static var adminMenu: [(String, String)] { [("Billing Settings", "/admin/billing"), ("Billing Manager", "/admin/users")] }

    /// The layout's data for a signed-in page; `section` is the menu entry to mark as current.
    func chrome(_ request: Request, _ context: AdminRequestContext, section: String) async throws -> Chrome {
        var chrome = Chrome()
        if let session = context.session {
            chrome.user = session.user
            chrome.isAdmin = session.role == .admin
            chrome.isBilling = session.role == .billing
            chrome.csrf = session.csrfToken
            let menu = session.role == .admin ? Self.adminMenu : Self.billingMenu
            chrome.nav = menu.map { NavItem(label: $0.0, href: $0.1, current: $0.1 == section) }
        }
        if let flash = Flash.message(in: request) {
            chrome.flash = flash.text
            chrome.flashIsError = flash.error
        }
        chrome.currency = try await operations.currency().symbol
        return chrome
    }

    /// A page of the console.
    func render(_ template: String, title: String, _ request: Request, _ context: AdminRequestContext,
                section: String, content: Any = [String: String](), status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        renderer.page(template, title: title, chrome: try await chrome(request, context, section: section),
                      content: content, status: status)
    }

    /// A redirect after a POST, with its flash message.
    func redirect(_ location: String, _ message: String, error: Bool = false) -> Response {
        Flash.redirect(to: location, message, error: error, secure: secureCookies)
    }

    var zone: TimeZone { operations.engine.timeZone }

    func money(_ value: Money) async throws -> String { ConsoleFormat.money(value, try await operations.currency().symbol) }
}

/// Messages for the fields of a form that was refused, by field name, with the values as typed.
struct FormState: Sendable {
    var errors: [String: String] = [:]
    var message: String?

    /// Files an operation's error under its field (or as the form's message).
    mutating func record(_ error: any Error, fields: [String: String] = [:]) {
        let api = APIError(error)
        if let field = api.field, let name = fields[field] ?? Optional(field) {
            errors[name] = api.message
        }
        message = api.message
    }
}
