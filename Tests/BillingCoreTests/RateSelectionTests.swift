import BillingCore
import Testing

func rate(_ id: Int64, _ prefix: String, length: Int = 0, active: Bool = true, block: (Int, Int) = (0, 0),
          exts: Set<String> = ["8001"], t: Tariff = tariff("0", 0, "0.01", 60)) -> Rate {
    try! Rate(id: id, active: active, prefix: prefix, numberLength: length, tariff: t,
              block: TimeBlock(start: block.0, end: block.1), extensions: exts)
}

@Suite("Rate selection (design.md §4)")
struct RateSelectionTests {
    static let noon = 12 * 3600

    @Test("longest prefix wins")
    func longestPrefix() {
        let table = RateTable(rates: [rate(1, "9"), rate(2, "90"), rate(3, "901")])
        #expect(table.select(extension: "8001", number: "9012345", secondOfDay: Self.noon)?.id == 3)
        #expect(table.select(extension: "8001", number: "9022345", secondOfDay: Self.noon)?.id == 2)
        #expect(table.select(extension: "8001", number: "9122345", secondOfDay: Self.noon)?.id == 1)
        #expect(table.select(extension: "8001", number: "8122345", secondOfDay: Self.noon) == nil)
    }

    @Test("exact number length beats length 0; other lengths never match")
    func lengths() {
        let table = RateTable(rates: [rate(1, "9", length: 0), rate(2, "9", length: 9), rate(3, "9", length: 12)])
        #expect(table.select(extension: "8001", number: "912345678", secondOfDay: Self.noon)?.id == 2)
        #expect(table.select(extension: "8001", number: "913912345678", secondOfDay: Self.noon)?.id == 3)
        #expect(table.select(extension: "8001", number: "91234", secondOfDay: Self.noon)?.id == 1)
        let noAny = RateTable(rates: [rate(2, "9", length: 9)])
        #expect(noAny.select(extension: "8001", number: "91234", secondOfDay: Self.noon) == nil)
    }

    @Test("a longer prefix beats an exact length on a shorter prefix")
    func prefixBeforeLength() {
        let table = RateTable(rates: [rate(1, "9", length: 9), rate(2, "91", length: 0)])
        #expect(table.select(extension: "8001", number: "912345678", secondOfDay: Self.noon)?.id == 2)
    }

    @Test("ties go to the lowest id")
    func lowestID() {
        let table = RateTable(rates: [rate(7, "00"), rate(3, "00"), rate(5, "00")])
        #expect(table.select(extension: "8001", number: "0044", secondOfDay: Self.noon)?.id == 3)
    }

    @Test("inactive and unassigned rates never win; the next candidate does")
    func inactiveAndUnassigned() {
        let table = RateTable(rates: [
            rate(1, "44", active: false), rate(2, "44", exts: ["8002"]), rate(3, "4"),
        ])
        #expect(table.select(extension: "8001", number: "4420", secondOfDay: Self.noon)?.id == 3)
        #expect(table.select(extension: "8002", number: "4420", secondOfDay: Self.noon)?.id == 2)
        #expect(table.select(extension: "8003", number: "4420", secondOfDay: Self.noon) == nil)
    }

    @Test("time blocks: all day, a day block, and a block wrapping midnight", arguments: [
        (0, 0, 0, true), (0, 0, 86_399, true),
        (8 * 3600, 18 * 3600, 8 * 3600, true), (8 * 3600, 18 * 3600, 18 * 3600, false),
        (8 * 3600, 18 * 3600, 7 * 3600, false),
        (22 * 3600, 6 * 3600, 23 * 3600, true), (22 * 3600, 6 * 3600, 3600, true),
        (22 * 3600, 6 * 3600, 6 * 3600, false), (22 * 3600, 6 * 3600, 12 * 3600, false),
    ])
    func timeBlocks(start: Int, end: Int, at second: Int, matches: Bool) {
        let table = RateTable(rates: [rate(1, "1", block: (start, end))])
        #expect((table.select(extension: "8001", number: "123", secondOfDay: second) != nil) == matches)
    }

    @Test("day and night rates on one prefix pick by the call's start time")
    func dayNight() {
        let table = RateTable(rates: [rate(1, "1", block: (8 * 3600, 20 * 3600)), rate(2, "1", block: (20 * 3600, 8 * 3600))])
        #expect(table.select(extension: "8001", number: "123", secondOfDay: 9 * 3600)?.id == 1)
        #expect(table.select(extension: "8001", number: "123", secondOfDay: 21 * 3600)?.id == 2)
    }

    @Test("an empty prefix matches every number, after every longer prefix")
    func emptyPrefix() {
        let table = RateTable(rates: [rate(1, ""), rate(2, "5")])
        #expect(table.select(extension: "8001", number: "123", secondOfDay: Self.noon)?.id == 1)
        #expect(table.select(extension: "8001", number: "523", secondOfDay: Self.noon)?.id == 2)
        #expect(table.select(extension: "8001", number: "*23", secondOfDay: Self.noon)?.id == 1)
    }

    @Test("upserting and removing rebuild the index")
    func edits() {
        let table = RateTable(rates: [rate(1, "9")])
        let edited = table.upserting(rate(1, "8"))
        #expect(edited.select(extension: "8001", number: "91", secondOfDay: Self.noon) == nil)
        #expect(edited.select(extension: "8001", number: "81", secondOfDay: Self.noon)?.id == 1)
        #expect(edited.removing(id: 1).select(extension: "8001", number: "81", secondOfDay: Self.noon) == nil)
    }

    @Test("100,000 rates select as a linear scan would")
    func largeTableMatchesScan() {
        var generator = SystemRandomNumberGenerator()
        var rates: [Rate] = []
        for id in 1...100_000 {
            let digits = Int.random(in: 1...6, using: &generator)
            let prefix = String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            let length = [0, 0, 8, 10].randomElement(using: &generator)!
            rates.append(rate(Int64(id), prefix, length: length, active: id % 7 != 0,
                              exts: [id % 3 == 0 ? "8002" : "8001"]))
        }
        let table = RateTable(rates: rates)
        for _ in 0..<300 {
            let number = String((0..<[8, 10, 12].randomElement()!).map { _ in Character(String(Int.random(in: 0...9))) })
            let expected = rates.filter {
                number.hasPrefix($0.prefix) && $0.applies(extension: "8001", length: number.count, secondOfDay: 0)
            }.min { a, b in
                (-a.prefix.count, a.numberLength == 0 ? 1 : 0, a.id) < (-b.prefix.count, b.numberLength == 0 ? 1 : 0, b.id)
            }
            #expect(table.select(extension: "8001", number: number, secondOfDay: 0)?.id == expected?.id)
        }
    }

    @Test("rate fields are validated")
    func validation() throws {
        let t = tariff("0", 0, "0.1", 1)
        #expect(throws: TollgateError.self) { try Rate(id: 1, prefix: "9a", tariff: t, extensions: []) }
        #expect(throws: TollgateError.self) { try Rate(id: 1, prefix: "912", numberLength: 2, tariff: t, extensions: []) }
        #expect(throws: TollgateError.self) { try TimeBlock(start: 86_400, end: 0) }
        #expect(try TimeBlock.secondOfDay(parsing: "22:30") == 81_000)
        #expect(throws: TollgateError.self) { try TimeBlock.secondOfDay(parsing: "24:00") }
        #expect(try TimeBlock.secondOfDay(parsing: "07:05:09") == 25_509)
        for signed in ["+1:00", "-0:30", "01:+5", "01:00:-1", "1:00", "01:00:"] {
            #expect(throws: TollgateError.self, "\(signed)") { try TimeBlock.secondOfDay(parsing: signed) }
        }
        #expect(TimeBlock.format(secondOfDay: 81_000) == "22:30")
    }
}
