import BillingCore
import Foundation
import Hummingbird
import Metering

extension AdminAPI {
    struct SettingsView: Codable, Sendable {
        var currency: Currency?
        var timeZone: String?
        var freeNumbers: [String]?
        var noRatePolicy: NoRatePolicy?
        var warningLeadSeconds: Int64?
        var grantValiditySeconds: Int64?
        var maxRecharge: MoneyText?
    }

    func addSettingsRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("/settings") { request, _ in
            _ = try self.authorize(request, .billing)
            return try Response.json(try await self.currentSettings())
        }
        api.put("/settings") { request, _ in
            let session = try self.authorize(request, .billing)
            let change = try await request.decodeJSON(SettingsView.self)
            // Everything is checked before anything is saved.
            var policy = self.engine.policy
            var zone: TimeZone?
            if let name = change.timeZone {
                guard let parsed = TimeZone(identifier: name) else {
                    throw APIError.invalid("unknown time zone \(name.prefix(64)); use an IANA name such as Europe/Paris",
                                           field: "timeZone")
                }
                zone = parsed
            }
            if let numbers = change.freeNumbers {
                guard numbers.count <= 1_000,
                    numbers.allSatisfy({ (1...32).contains($0.utf8.count) && $0.utf8.allSatisfy { (48...57).contains($0) || $0 == 42 || $0 == 35 || $0 == 43 } })
                else { throw APIError.invalid("free numbers are 1-32 digits (or * # +), at most 1,000", field: "freeNumbers") }
                policy.freeNumbers = Set(numbers)
            }
            if let noRate = change.noRatePolicy { policy.noRatePolicy = noRate }
            if let lead = change.warningLeadSeconds {
                guard (0...3_600).contains(lead) else {
                    throw APIError.invalid("warningLeadSeconds must be 0 to 3600", field: "warningLeadSeconds")
                }
                policy.warningLeadMillis = lead * 1000
            }
            if let validity = change.grantValiditySeconds {
                guard (1...86_400).contains(validity) else {
                    throw APIError.invalid("grantValiditySeconds must be 1 to 86400", field: "grantValiditySeconds")
                }
                policy.grantValidityMillis = validity * 1000
            }
            if let maximum = change.maxRecharge {
                guard maximum.money.isPositive else { throw APIError.invalid("maxRecharge must be more than 0", field: "maxRecharge") }
                policy.maxRecharge = maximum.money
            }
            if policy != self.engine.policy { try await self.engine.setPolicy(policy) }
            if let zone, zone.identifier != self.engine.timeZone.identifier { try await self.engine.setTimeZone(zone) }
            if let currency = change.currency { try await self.engine.saveSetting(key: SettingKey.currency, value: currency.rawValue) }
            self.logger.info("settings changed", metadata: ["user": "\(session.user)"])
            return try Response.json(try await self.currentSettings())
        }
    }

    func currentSettings() async throws -> SettingsView {
        let policy = engine.policy
        let currency = try await ledger.settings()[SettingKey.currency].flatMap(Currency.init(rawValue:)) ?? .usd
        return SettingsView(currency: currency, timeZone: engine.timeZone.identifier, freeNumbers: policy.freeNumbers.sorted(),
                            noRatePolicy: policy.noRatePolicy, warningLeadSeconds: policy.warningLeadMillis / 1000,
                            grantValiditySeconds: policy.grantValidityMillis / 1000, maxRecharge: MoneyText(policy.maxRecharge))
    }
}
