public import Administration
import BillingCore
import Foundation
public import Hummingbird
import Ledger
import Metering

/// The web console: server-rendered pages for billing managers and the administrator, on the same listener as
/// the API and over the same ``AdminOperations``.
///
/// Pages work without JavaScript (plain forms, a redirect and a flash message after each change); the one
/// script adds select-all, copy buttons and live updates. Sessions are cookies (HttpOnly, SameSite=Strict,
/// Secure over TLS); every state-changing form carries the session's CSRF token and its Origin is checked; the
/// role each group of pages needs is checked by ``ConsoleSessionMiddleware``.
public struct AdminConsole: AdminSurface {
    let operations: AdminOperations
    let renderer: ConsoleRenderer
    /// Set when the console is served over TLS: cookies then carry `Secure`.
    let secureCookies: Bool

    public init(operations: AdminOperations, secureCookies: Bool = false) throws {
        self.operations = operations
        self.renderer = try ConsoleRenderer()
        self.secureCookies = secureCookies
    }

    public func register(on router: Router<AdminRequestContext>) {
        router.add(middleware: ConsoleErrorMiddleware(renderer: renderer, skippedPrefixes: ["/api/", "/healthz", "/readyz", "/metrics"]))
        addAssetRoutes(router)
        addSignInRoutes(router)
        let account = router.group("/account").add(middleware: session(role: nil))
        addAccountRoutes(account)
        let admin = router.group("/admin").add(middleware: session(role: .admin))
        addBillingSettingsRoutes(admin)
        addBillingManagerRoutes(admin)
        let billing = router.group().add(middleware: session(role: .billing))
        addExtensionRoutes(billing)
        addRateRoutes(billing)
        addHistoryRoutes(billing)
        addStatisticsRoutes(billing)
        addSettingsRoutes(billing)
        addLiveCallRoutes(billing)
    }

    private func session(role: StoredUser.Role?) -> ConsoleSessionMiddleware {
        ConsoleSessionMiddleware(operations: operations, renderer: renderer, role: role)
    }
}
