import BillingCore
import Foundation

/// How the ledger stores the settings that are not plain text: the billing policy, as JSON under
/// `SettingKey.policy`. Writing and reading it both live here, so the stored form has one owner.
enum SettingsCodec {
    static func encode(_ policy: BillingPolicy) throws -> String {
        String(decoding: try JSONEncoder().encode(policy), as: UTF8.self)
    }

    static func policy(from json: String) throws -> BillingPolicy {
        do {
            return try JSONDecoder().decode(BillingPolicy.self, from: Data(json.utf8))
        } catch {
            throw LedgerError.corrupt("stored policy: \(error)")
        }
    }
}
