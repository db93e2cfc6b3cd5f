extension Money {
    /// Parses a decimal amount such as `"12"`, `"-0.0125"` or `"+3.5"` exactly.
    ///
    /// Accepts an optional sign, digits, and at most six decimals. Anything else (exponents, separators,
    /// spaces inside, a bare dot, more than six decimals, a value beyond 64-bit micro-units) is an error.
    public init(parsing text: some StringProtocol) throws(MoneyError) {
        let original = String(text)
        var bytes = Substring(original).utf8[...]
        while let first = bytes.first, first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var wholeDigits = 0
        var seenDot = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard !seenDot else { throw .invalidFormat(original) }
                seenDot = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw .invalidFormat(original) }
            let digit = Int64(byte - UInt8(ascii: "0"))
            if seenDot {
                fractionDigits += 1
                guard fractionDigits <= 6 else { throw .tooManyDecimals(original) }
                fraction = fraction * 10 + digit
            } else {
                wholeDigits += 1
                let (shifted, o1) = whole.multipliedReportingOverflow(by: 10)
                let (next, o2) = shifted.addingReportingOverflow(digit)
                guard !o1, !o2 else { throw .overflow }
                whole = next
            }
        }
        guard wholeDigits + fractionDigits > 0, !(seenDot && fractionDigits == 0) else {
            throw .invalidFormat(original)
        }
        for _ in fractionDigits..<6 { fraction *= 10 }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: Money.microsPerUnit)
        let (magnitude, o2) = scaled.addingReportingOverflow(fraction)
        guard !o1, !o2 else {
            // Int64.min micros has no positive counterpart; it is out of range either way.
            throw .overflow
        }
        self.init(micros: negative ? -magnitude : magnitude)
    }

    /// The exact decimal text, at least two decimals and at most six, e.g. `"0.0125"`, `"-3.50"`.
    public var decimalString: String {
        let negative = micros < 0
        let magnitude = micros.magnitude
        let whole = magnitude / UInt64(Money.microsPerUnit)
        var fraction = String(magnitude % UInt64(Money.microsPerUnit))
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        return (negative ? "-" : "") + "\(whole).\(fraction)"
    }

    /// The amount for display: the currency symbol and two decimals, rounded half away from zero
    /// (display only; stored amounts keep all six decimals).
    public func formatted(_ currency: Currency = .usd) -> String {
        let negative = micros < 0
        let magnitude = micros.magnitude
        let cents = (magnitude + 5_000) / 10_000
        let whole = cents / 100
        let rest = cents % 100
        let fraction = rest < 10 ? "0\(rest)" : "\(rest)"
        return (negative ? "-" : "") + currency.symbol + "\(whole).\(fraction)"
    }
}

extension Money: CustomStringConvertible {
    public var description: String { decimalString }
}
