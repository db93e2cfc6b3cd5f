/// An exact amount of money: a signed 64-bit count of micro-units (10⁻⁶ of the currency unit).
///
/// Money never goes through floating point. Arithmetic is checked: an overflow is a thrown
/// ``MoneyError/overflow`` rather than a wrap or a trap, because amounts can come from outside.
public struct Money: Sendable, Hashable, Comparable, Codable {
    /// Micro-units per whole currency unit.
    public static let microsPerUnit: Int64 = 1_000_000
    /// No money.
    public static let zero = Money(micros: 0)
    /// The largest representable amount.
    public static let max = Money(micros: .max)

    /// The amount in micro-units.
    public var micros: Int64

    /// Creates an amount from micro-units.
    public init(micros: Int64) {
        self.micros = micros
    }

    /// Creates an amount of whole currency units, failing on overflow.
    public init(units: Int64) throws(MoneyError) {
        let (value, overflow) = units.multipliedReportingOverflow(by: Self.microsPerUnit)
        guard !overflow else { throw .overflow }
        self.micros = value
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.micros < rhs.micros }

    /// `self + other`, or ``MoneyError/overflow``.
    public func adding(_ other: Money) throws(MoneyError) -> Money {
        let (value, overflow) = micros.addingReportingOverflow(other.micros)
        guard !overflow else { throw .overflow }
        return Money(micros: value)
    }

    /// `self - other`, or ``MoneyError/overflow``.
    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        let (value, overflow) = micros.subtractingReportingOverflow(other.micros)
        guard !overflow else { throw .overflow }
        return Money(micros: value)
    }

    /// `self × factor`, or ``MoneyError/overflow``.
    public func multiplied(by factor: Int64) throws(MoneyError) -> Money {
        let (value, overflow) = micros.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw .overflow }
        return Money(micros: value)
    }

    /// The negated amount, or ``MoneyError/overflow`` for `Int64.min` micros.
    public func negated() throws(MoneyError) -> Money {
        guard micros != .min else { throw .overflow }
        return Money(micros: -micros)
    }

    /// True when the amount is below zero.
    public var isNegative: Bool { micros < 0 }
    /// True when the amount is above zero.
    public var isPositive: Bool { micros > 0 }
}

/// Why a money operation failed.
public enum MoneyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The result does not fit in 64-bit micro-units.
    case overflow
    /// The text is not a decimal amount.
    case invalidFormat(String)
    /// The text has more than six decimals; money is never rounded on input.
    case tooManyDecimals(String)

    public var description: String {
        switch self {
        case .overflow: "amount out of range"
        case .invalidFormat(let text): "not a decimal amount: \"\(text.prefix(40))\""
        case .tooManyDecimals(let text): "more than 6 decimals: \"\(text.prefix(40))\""
        }
    }
}
