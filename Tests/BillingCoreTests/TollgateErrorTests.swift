import BillingCore
import Testing

@Suite("TollgateError")
struct TollgateErrorTests {
    @Test("carries the error underneath for logs; equality and the reply's parts ignore it")
    func cause() throws {
        let parse = #expect(throws: MoneyError.self) { try Money(parsing: "1.2345678") }
        let reported = TollgateError(.invalidArgument, "too many decimals", field: "rate", cause: parse)
        let plain = TollgateError(.invalidArgument, "too many decimals", field: "rate")
        #expect(reported == plain && reported.hashValue == plain.hashValue)
        #expect(reported.description == "INVALID_ARGUMENT: too many decimals (rate), caused by: \(parse.map { "\($0)" } ?? "")")
        #expect(plain.description == "INVALID_ARGUMENT: too many decimals (rate)")
        #expect(reported.cause is MoneyError)
    }
}
