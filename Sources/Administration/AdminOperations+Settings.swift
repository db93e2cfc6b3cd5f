package import BillingCore
import Journal
import Foundation
import Metering

/// The billing settings: given fields change, absent ones stay as they are.
package struct SettingsView: Codable, Sendable {
    package var currency: Currency?
    package var timeZone: String?
    package var freeNumbers: [String]?
    package var noRatePolicy: NoRatePolicy?
    package var warningLeadSeconds: Int64?
    package var grantValiditySeconds: Int64?
    package var maxRecharge: MoneyText?

    package init(currency: Currency? = nil, timeZone: String? = nil, freeNumbers: [String]? = nil,
                 noRatePolicy: NoRatePolicy? = nil, warningLeadSeconds: Int64? = nil,
                 grantValiditySeconds: Int64? = nil, maxRecharge: MoneyText? = nil) {
        self.currency = currency
        self.timeZone = timeZone
        self.freeNumbers = freeNumbers
        self.noRatePolicy = noRatePolicy
        self.warningLeadSeconds = warningLeadSeconds
        self.grantValiditySeconds = grantValiditySeconds
        self.maxRecharge = maxRecharge
    }
}

extension AdminOperations {
    package func settings() async throws -> SettingsView {
        let policy = engine.policy
        return SettingsView(currency: try await currency(), timeZone: engine.timeZone.identifier,
                            freeNumbers: policy.freeNumbers.sorted(), noRatePolicy: policy.noRatePolicy,
                            warningLeadSeconds: policy.warningLeadMillis / 1000,
                            grantValiditySeconds: policy.grantValidityMillis / 1000,
                            maxRecharge: MoneyText(policy.maxRecharge))
    }

    /// The configured currency (USD by default).
    package func currency() async throws -> Currency {
        try await ledger.settings()[SettingKey.currency].flatMap(Currency.init(rawValue:)) ?? .usd
    }

    /// Changes the given settings. Everything is checked before anything is saved.
    package func updateSettings(_ change: SettingsView, by session: AdminSession) async throws -> SettingsView {
        var policy = engine.policy
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
        if policy != engine.policy { try await engine.setPolicy(policy) }
        if let zone, zone.identifier != engine.timeZone.identifier { try await engine.setTimeZone(zone) }
        if let currency = change.currency { try await engine.saveSetting(key: SettingKey.currency, value: currency.rawValue) }
        logger.info("settings changed", metadata: .fields([.user: "\(session.user)"]))
        return try await settings()
    }
}
