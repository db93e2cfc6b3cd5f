@testable import Administration
import BillingCore
import PropertyBased
import Testing

/// The rate table's CSV is its backup: what `GET /rates/export` writes, `POST /rates/import` must read back as the
/// same rates, whatever their remarks hold (commas, quotes, line breaks, a leading `=` guarded against formulas).
@Suite("Rate CSV (property tests)")
struct RateCSVPropertyTests {
    static let remarks = Gen<Character?>.element(of: Array("ab Z9,\"'\r\n=+-@\té中😀")).map { $0 ?? "a" }
        .string(of: 0...24)
    static let digits = Gen<Character?>.element(of: Array("0123456789")).map { $0 ?? "0" }.string(of: 0...8)
    static let anyText = Gen<Character?>.element(of: Array("0123456789,;\"'\r\n =-:.truefals中")).map { $0 ?? "a" }
        .string(of: 0...200)
    static let tariff = zip(Gen.int64(in: 0...5_000_000), Gen.int(in: 0...3_600), Gen.int64(in: 0...5_000_000),
                            Gen.int(in: 1...3_600))
    static let rate = zip(zip(remarks, digits, Gen.bool(), digits.array(of: 0...3)), tariff,
                          zip(Gen.int(in: 0...86_399), Gen.int(in: 0...86_399)))

    @Test("export then import gives back the same rates")
    func roundTrip() async {
        await propertyCheck(count: 300, input: Self.rate.array(of: 1...6)) { specs in
            var rates: [Rate] = []
            for (index, spec) in specs.enumerated() {
                let ((remarks, prefix, active, extensions), (initialCost, initialTime, price, unit), (start, end)) = spec
                let view = RateView(
                    id: Int64(index + 1), active: active, remarks: remarks, prefix: prefix,
                    numberLength: prefix.isEmpty ? 0 : prefix.count + index, initialCost: MoneyText(Money(micros: initialCost)),
                    initialTime: initialTime, rate: MoneyText(Money(micros: price)), unit: unit,
                    startTime: TimeBlock.format(secondOfDay: start), endTime: TimeBlock.format(secondOfDay: end),
                    extensions: extensions.filter { !$0.isEmpty })
                rates.append(try view.rate(id: Int64(index + 1)))
            }
            let csv = RateCSV.export(rates)
            guard case .success(let parsed) = RateCSV.parse(csv) else {
                Issue.record("the export does not import: \(RateCSV.parse(csv)) for \(csv.debugDescription)")
                return
            }
            #expect(parsed.map(\.id) == rates.map(\.id))
            #expect(parsed.map(\.rate) == rates, "\(csv.debugDescription)")
        }
    }

    @Test("found by the round trip: a Windows line break is quoted, and the formula guard is undone on import")
    func examples() {
        // "\r\n" is one Character in Swift, equal to neither "\r" nor "\n": it used to go out unquoted.
        #expect(CSVWriter.escape("desk\r\nlobby") == "\"desk\r\nlobby\"")
        #expect(CSVWriter.escape("=SUM(A1)") == "'=SUM(A1)" && CSVWriter.unguarded("'=SUM(A1)") == "=SUM(A1)")
        #expect(CSVWriter.escape("'=x") == "''=x" && CSVWriter.unguarded("''=x") == "'=x")
        #expect(CSVWriter.escape("-1.50") == "-1.50" && CSVWriter.unguarded("'night") == "'night")
        // An import may hold a field of millions of 's: one pass, no recursion that would overflow the stack.
        let apostrophes = String(repeating: "'", count: 2_000_000)
        #expect(CSVWriter.unguarded(apostrophes + "=x") == String(repeating: "'", count: 1_999_999) + "=x")
        #expect(CSVWriter.unguarded(apostrophes + "x") == apostrophes + "x")
    }

    @Test("any text imports as rates or as errors naming lines, never a crash")
    func anyText() async {
        await propertyCheck(count: 500, input: Self.anyText) { body in
            switch RateCSV.parse(RateCSV.header.joined(separator: ",") + "\n" + body) {
            case .success(let rates): #expect(rates.count <= 200)
            case .failure(let failure): #expect(!failure.errors.isEmpty && failure.errors.allSatisfy { $0.line >= 1 })
            }
        }
    }
}
