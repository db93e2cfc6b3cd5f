import Administration
import Foundation
import Hummingbird
import Ledger

extension AdminConsole {
    struct BillingSettingsContent {
        var enabled: Bool
        var activatedAt: String
        var expiry: String
        var licensed: Bool
        var trialExpired: Bool
        var fingerprint: String
        var problem: String?
    }

    struct UsersContent {
        var users: [UserRow]
        var empty: Bool
        var created: Credentials?
        var createdVerb: String
    }

    struct UserRow {
        var name: String
        var createdAt: String
        var passwordChangedAt: String
    }

    struct ConfirmContent {
        var message: String
        var action: String
        var button: String
        var back: String
        var fields: [HiddenField]
    }

    struct HiddenField {
        var name: String
        var value: String
    }

    func addBillingSettingsRoutes(_ admin: RouterGroup<AdminRequestContext>) {
        admin.get("/billing") { request, context in
            try await billingSettingsPage(request, context, problem: nil)
        }
        admin.get("/billing/off") { request, context in
            try await render("confirm", title: "Switch billing off?", request, context, section: "/admin/billing",
                             content: ConfirmContent(
                                message: "With billing off, no call is billed or cut and billing users cannot sign in. The balances and the call log are kept.",
                                action: "/admin/billing", button: "Switch billing off", back: "/admin/billing",
                                fields: [HiddenField(name: "enabled", value: "off"), HiddenField(name: "confirmed", value: "yes")]))
        }
        admin.post("/billing") { request, context in
            var request = request
            let form = try await FormFields.read(&request)
            let enable = form.first("enabled") == "on"
            // Switching off needs the confirmation page's second click (or the script's confirm()).
            if !enable && form.first("confirmed") != "yes" {
                return Response.redirect(to: "/admin/billing/off", type: .normal)
            }
            let status = try await operations.setBilling(enabled: enable, by: try context.requireSession())
            return redirect("/admin/billing", enable ? "Billing is on. Expires: \(status.expiry)." : "Billing is off.")
        }
        admin.get("/license/source") { _, _ in
            Response.download(Array(try operations.licenseSource()), contentType: "application/json", fileName: "billing.ac")
        }
        admin.post("/license") { request, context in
            var request = request
            let form = try await FormFields.read(&request)
            guard let bytes = form.file("license") else {
                return try await billingSettingsPage(request, context, problem: "Choose the license file (billing.lic) to upload.",
                                                     status: .badRequest)
            }
            do {
                _ = try operations.installLicense(bytes, by: try context.requireSession())
            } catch let error as APIError {
                return try await billingSettingsPage(request, context, problem: "License refused: \(error.message)",
                                                     status: error.status)
            }
            return redirect("/admin/billing", "License installed: billing never expires on this device.")
        }
    }

    private func billingSettingsPage(_ request: Request, _ context: AdminRequestContext, problem: String?,
                                     status: HTTPResponse.Status = .ok) async throws -> Response {
        let state = operations.activationStatus()
        return try await render("billing", title: "Billing Settings", request, context, section: "/admin/billing",
                                content: BillingSettingsContent(
                                    enabled: state.billingEnabled,
                                    activatedAt: state.activatedAt.map { ConsoleFormat.time($0, zone) } ?? "Not activated yet",
                                    expiry: state.licensed ? "Never Expires"
                                        : state.trialEndsAt.map { ConsoleFormat.time($0, zone) } ?? "Not activated yet",
                                    licensed: state.licensed, trialExpired: state.trialExpired,
                                    fingerprint: state.deviceFingerprint, problem: problem), status: status)
    }

    func addBillingManagerRoutes(_ admin: RouterGroup<AdminRequestContext>) {
        admin.get("/users") { request, context in try await usersPage(request, context, created: nil, verb: "") }
        admin.post("/users") { request, context in
            let created = try await operations.createBillingUser(named: nil)
            return try await usersPage(request, context, created: created, verb: "Created")
        }
        admin.post("/users/:name/password") { request, context in
            let reset = try await operations.resetPassword(of: try context.parameters.require("name"))
            return try await usersPage(request, context, created: reset, verb: "New password for")
        }
        admin.get("/users/:name/delete") { request, context in
            let name = try context.parameters.require("name")
            return try await render("confirm", title: "Delete \(name)?", request, context, section: "/admin/users",
                                    content: ConfirmContent(
                                        message: "\(name) will no longer be able to sign in, and its sessions end now. Its recharges stay in the history.",
                                        action: "/admin/users/\(name)/delete", button: "Delete \(name)",
                                        back: "/admin/users", fields: []))
        }
        admin.post("/users/:name/delete") { _, context in
            let name = try context.parameters.require("name")
            try await operations.deleteBillingUser(named: name)
            return redirect("/admin/users", "Deleted \(name).")
        }
    }

    /// The list; after a creation or a reset, the password is shown this once (the page is never cached).
    private func usersPage(_ request: Request, _ context: AdminRequestContext, created: Credentials?, verb: String)
        async throws -> Response
    {
        let users = try await operations.users().filter { $0.role == .billing }.map {
            UserRow(name: $0.name, createdAt: ConsoleFormat.time($0.createdAt, zone),
                    passwordChangedAt: ConsoleFormat.time($0.passwordChangedAt, zone))
        }
        return try await render("users", title: "Billing Manager", request, context, section: "/admin/users",
                                content: UsersContent(users: users, empty: users.isEmpty, created: created, createdVerb: verb))
    }
}
