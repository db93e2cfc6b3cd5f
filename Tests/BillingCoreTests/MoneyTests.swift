import BillingCore
import Testing

@Suite("Money")
struct MoneyTests {
    @Test("parses decimal text exactly", arguments: [
        ("0.0125", Int64(12_500)), ("12", 12_000_000), ("-3.5", -3_500_000), ("+1.000001", 1_000_001),
        (".5", 500_000), ("0", 0), ("  7.25 ", 7_250_000), ("9223372036854.775807", Int64.max),
        ("-9223372036854.775807", -Int64.max),
    ])
    func parses(text: String, micros: Int64) throws {
        #expect(try Money(parsing: text).micros == micros)
    }

    @Test("refuses garbage, too many decimals and overflow", arguments: [
        ("", MoneyError.invalidFormat("")), ("abc", .invalidFormat("abc")), ("1.", .invalidFormat("1.")),
        (".", .invalidFormat(".")), ("1e5", .invalidFormat("1e5")), ("1,000", .invalidFormat("1,000")),
        ("--1", .invalidFormat("--1")), ("1.2.3", .invalidFormat("1.2.3")), ("-", .invalidFormat("-")),
        ("0.0000001", .tooManyDecimals("0.0000001")), ("1.1234567", .tooManyDecimals("1.1234567")),
        ("9223372036854.775808", .overflow), ("99999999999999999999", .overflow),
    ])
    func refuses(text: String, error: MoneyError) {
        #expect(throws: error) { try Money(parsing: text) }
    }

    @Test("formats with the currency symbol and two decimals", arguments: [
        (Int64(12_500), Currency.usd, "$0.01"), (1_005_000, .cny, "¥1.01"), (-2_500_000, .eur, "-€2.50"),
        (999_999, .gbp, "£1.00"), (0, .other, "¤0.00"), (1_234_567_890, .usd, "$1234.57"),
    ])
    func formats(micros: Int64, currency: Currency, text: String) {
        #expect(Money(micros: micros).formatted(currency) == text)
    }

    @Test("exact decimal text round-trips", arguments: ["0.0125", "-3.50", "1.00", "0.000001", "123456.789"])
    func roundTrips(text: String) throws {
        let money = try Money(parsing: text)
        #expect(money.decimalString == text)
        #expect(try Money(parsing: money.decimalString) == money)
    }

    @Test("arithmetic is checked: overflow throws, never wraps")
    func checkedArithmetic() throws {
        #expect(throws: MoneyError.overflow) { try Money.max.adding(Money(micros: 1)) }
        #expect(throws: MoneyError.overflow) { try Money(micros: .min).subtracting(Money(micros: 1)) }
        #expect(throws: MoneyError.overflow) { try Money(micros: .max / 2 + 1).multiplied(by: 2) }
        #expect(throws: MoneyError.overflow) { try Money(micros: .min).negated() }
        #expect(throws: MoneyError.overflow) { try Money(units: Int64.max / 1000) }
        #expect(try Money(micros: 5).adding(Money(micros: -7)) == Money(micros: -2))
        #expect(try Money(units: 3) == Money(micros: 3_000_000))
    }
}
