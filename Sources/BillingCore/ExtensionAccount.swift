/// How an extension pays.
public enum PaymentType: String, Sendable, Hashable, Codable, CaseIterable {
    /// The user pays first; credit may be 0.
    case prepaid
    /// The account runs on credit; with no credit, no call.
    case postpaid
}

/// Whether an extension may place outbound calls.
public enum ExtensionStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case unlocked
    /// Outbound calls are denied; live calls continue.
    case locked
}

/// A billed party: one PBX extension and its money.
public struct ExtensionAccount: Sendable, Hashable, Codable {
    /// The extension number, e.g. `"8001"`.
    public var number: String
    /// The user's display name.
    public var userName: String
    /// Whether this extension's outbound calls are billed. Off for a newly seen extension.
    public var billingEnabled: Bool
    public var paymentType: PaymentType
    public var status: ExtensionStatus
    /// May go down to `-credit` through metering, never below.
    public var balance: Money
    /// How far below zero the balance may go; never negative.
    public var credit: Money
    /// Sum of recharges since billing was activated or the payment type last changed.
    public var totalRecharges: Money

    public init(
        number: String,
        userName: String = "",
        billingEnabled: Bool = false,
        paymentType: PaymentType = .prepaid,
        status: ExtensionStatus = .unlocked,
        balance: Money = .zero,
        credit: Money = .zero,
        totalRecharges: Money = .zero
    ) {
        self.number = number
        self.userName = userName
        self.billingEnabled = billingEnabled
        self.paymentType = paymentType
        self.status = status
        self.balance = balance
        self.credit = credit
        self.totalRecharges = totalRecharges
    }

    /// Balance plus credit: what charges may still take. Saturates rather than overflowing.
    public var available: Money {
        (try? balance.adding(credit)) ?? (credit.isPositive ? .max : Money(micros: .min))
    }

    /// Checks an extension number: 1 to 32 characters of digits, `*`, `#` or `+`.
    public static func validate(number: String) throws(TollgateError) {
        guard (1...32).contains(number.utf8.count),
            number.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 42 || $0 == 35 || $0 == 43 })
        else {
            throw TollgateError(.invalidArgument, "extension number must be 1-32 digits", field: "number")
        }
    }
}
