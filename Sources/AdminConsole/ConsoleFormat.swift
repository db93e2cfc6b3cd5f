import BillingCore
import Foundation

/// How the console writes money, times and durations.
enum ConsoleFormat {
    /// "$12.50", "-$0.0125": the currency's symbol, at least two decimals, and every further decimal that is not
    /// zero, so a display never rounds a billed amount.
    static func money(_ money: Money, _ symbol: String) -> String {
        let text = money.decimalString
        let negative = text.hasPrefix("-")
        var digits = negative ? String(text.dropFirst()) : text
        if !digits.contains(".") { digits += ".00" }
        let parts = digits.split(separator: ".", maxSplits: 1)
        var fraction = String(parts.count > 1 ? parts[1] : "")
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        while fraction.count < 2 { fraction += "0" }
        return (negative ? "-" : "") + symbol + parts[0] + "." + fraction
    }

    /// The plain decimal for an input's value ("12.50"), without the symbol.
    static func decimal(_ money: Money) -> String { Self.money(money, "") }

    /// "2026-12-03 14:05:09" in the configured time zone.
    static func time(_ millis: Int64, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis / 1000)))
    }

    /// The value of a `datetime-local` input ("2026-12-03T14:05").
    static func inputTime(_ millis: Int64, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis / 1000)))
    }

    /// Reads a `datetime-local` value (with or without seconds) or a date in the configured time zone.
    static func parseInputTime(_ text: String, _ zone: TimeZone) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        for pattern in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"] {
            formatter.dateFormat = pattern
            if text.count == pattern.replacingOccurrences(of: "'", with: "").count, let date = formatter.date(from: text) {
                return Int64(date.timeIntervalSince1970) * 1000
            }
        }
        return nil
    }

    /// "1:05:09" or "4:07" for a number of seconds.
    static func duration(seconds: Int64) -> String {
        let hours = seconds / 3600, minutes = (seconds % 3600) / 60, rest = seconds % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}
