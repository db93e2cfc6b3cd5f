import Administration
import BillingCore
import Foundation
import Hummingbird
import Metering

extension AdminConsole {
    struct SettingsContent {
        var currencies: [Choice]
        var timeZone: String
        var zones: [String]
        var freeNumbers: String
        var policies: [Choice]
        var warningLead: String
        var grantValidity: String
        var maxRecharge: String
        var form: FormState
    }

    func addSettingsRoutes(_ billing: RouterGroup<AdminRequestContext>) {
        billing.get("/settings") { request, context in
            let current = try await operations.settings()
            return try await settingsPage(request, context, values: [
                "currency": current.currency?.rawValue ?? "USD", "timeZone": current.timeZone ?? "UTC",
                "freeNumbers": (current.freeNumbers ?? []).joined(separator: "\n"),
                "noRatePolicy": current.noRatePolicy?.rawValue ?? "", "warningLeadSeconds": "\(current.warningLeadSeconds ?? 0)",
                "grantValiditySeconds": "\(current.grantValiditySeconds ?? 60)",
                "maxRecharge": current.maxRecharge.map { ConsoleFormat.decimal($0.money) } ?? "",
            ], form: FormState())
        }
        billing.post("/settings") { request, context in
            var request = request
            let fields = try await FormFields.read(&request)
            var values: [String: String] = [:]
            for name in ["currency", "timeZone", "freeNumbers", "noRatePolicy", "warningLeadSeconds", "grantValiditySeconds",
                         "maxRecharge"] {
                values[name] = fields.first(name) ?? ""
            }
            var state = FormState()
            do {
                func integer(_ name: String) throws -> Int64 {
                    guard let value = Int64(values[name] ?? "") else { throw APIError.invalid("type a whole number of seconds", field: name) }
                    return value
                }
                guard let currency = Currency(rawValue: values["currency"] ?? "") else {
                    throw APIError.invalid("choose a currency", field: "currency")
                }
                guard let policy = NoRatePolicy(rawValue: values["noRatePolicy"] ?? "") else {
                    throw APIError.invalid("choose what happens to a call no rate matches", field: "noRatePolicy")
                }
                let numbers = (values["freeNumbers"] ?? "").split(whereSeparator: { $0.isNewline || $0 == "," || $0 == " " })
                    .map(String.init)
                let change = SettingsView(
                    currency: currency, timeZone: values["timeZone"], freeNumbers: numbers, noRatePolicy: policy,
                    warningLeadSeconds: try integer("warningLeadSeconds"), grantValiditySeconds: try integer("grantValiditySeconds"),
                    maxRecharge: MoneyText(try Self.parseMoney(values["maxRecharge"] ?? "", field: "maxRecharge")))
                _ = try await operations.updateSettings(change, by: try context.requireSession())
                return redirect("/settings", "Settings saved.")
            } catch {
                state.record(error)
            }
            return try await settingsPage(request, context, values: values, form: state, status: .badRequest)
        }
    }

    private func settingsPage(_ request: Request, _ context: AdminRequestContext, values: [String: String],
                              form: FormState, status: HTTPResponse.Status = .ok) async throws -> Response {
        let labels: [Currency: String] = [.usd: "USD $", .cny: "CNY ¥", .eur: "EUR €", .gbp: "GBP £", .other: "Other ¤"]
        let currencies = Currency.allCases.map {
            Choice(value: $0.rawValue, label: labels[$0] ?? $0.rawValue, selected: values["currency"] == $0.rawValue)
        }
        let policies = [Choice(value: NoRatePolicy.deny.rawValue, label: "Deny the call",
                               selected: values["noRatePolicy"] == NoRatePolicy.deny.rawValue)]
            + NoRatePolicy.allCases.filter { $0 != .deny }.map {
                Choice(value: $0.rawValue, label: "Allow it unbilled", selected: values["noRatePolicy"] == $0.rawValue)
            }
        return try await render("settings", title: "Settings", request, context, section: "/settings", content: SettingsContent(
            currencies: currencies, timeZone: values["timeZone"] ?? "", zones: TimeZone.knownTimeZoneIdentifiers.sorted(),
            freeNumbers: values["freeNumbers"] ?? "", policies: policies, warningLead: values["warningLeadSeconds"] ?? "",
            grantValidity: values["grantValiditySeconds"] ?? "", maxRecharge: values["maxRecharge"] ?? "", form: form),
            status: status)
    }
}
