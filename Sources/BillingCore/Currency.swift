/// The currency amounts are shown in. Amounts themselves are currency-free micro-units.
public enum Currency: String, Sendable, Hashable, Codable, CaseIterable {
    case usd = "USD"
    case cny = "CNY"
    case eur = "EUR"
    case gbp = "GBP"
    case other = "Other"

    /// The symbol used when displaying amounts.
    public var symbol: String {
        switch self {
        case .usd: "$"
        case .cny: "¥"
        case .eur: "€"
        case .gbp: "£"
        case .other: "¤"
        }
    }
}
