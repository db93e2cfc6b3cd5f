/// What to do with a billed extension's call when no rate applies.
public enum NoRatePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Deny the call with `NO_RATE`.
    case deny
    /// Let the call through, unbilled.
    case allowUnbilled = "allow-unbilled"
}

/// Engine-wide settings that authorization, metering and settlement read.
public struct BillingPolicy: Sendable, Hashable, Codable {
    /// Emergency and free numbers allowed by default.
    public static let defaultFreeNumbers: Set<String> = ["112", "911", "999", "110", "119", "120"]

    /// Billing switched on globally (activation). Off: every call is allowed, unbilled.
    public var billingActive: Bool
    /// Numbers that are always allowed, never billed and never cut.
    public var freeNumbers: Set<String>
    public var noRatePolicy: NoRatePolicy
    /// How long before a certain cutoff the PBX is warned.
    public var warningLeadMillis: Int64
    /// How long one grant lasts at most; the PBX hangs up at the grant's deadline unless renewed.
    public var grantValidityMillis: Int64
    /// How much longer than the engine observed a PBX may report a call to have lasted.
    public var endToleranceMillis: Int64
    /// The largest single recharge.
    public var maxRecharge: Money

    public init(
        billingActive: Bool = true,
        freeNumbers: Set<String> = BillingPolicy.defaultFreeNumbers,
        noRatePolicy: NoRatePolicy = .deny,
        warningLeadMillis: Int64 = 30_000,
        grantValidityMillis: Int64 = 60_000,
        endToleranceMillis: Int64 = 2_000,
        maxRecharge: Money = Money(micros: 100_000 * Money.microsPerUnit)
    ) {
        self.billingActive = billingActive
        self.freeNumbers = freeNumbers
        self.noRatePolicy = noRatePolicy
        self.warningLeadMillis = warningLeadMillis
        self.grantValidityMillis = grantValidityMillis
        self.endToleranceMillis = endToleranceMillis
        self.maxRecharge = maxRecharge
    }
}
