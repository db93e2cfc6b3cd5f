import BillingCore
import Foundation
import Hummingbird
import Ledger
import Synchronization

extension AdminAPI {
    struct Bucket: Codable, Sendable {
        var label: String
        var start: Int64
        var calls: Int64
        var billableSeconds: Int64
        var cost: MoneyText
    }

    struct Statistics: Codable, Sendable {
        var period: String
        var extensionNumber: String?
        var from: Int64
        var to: Int64
        var timeZone: String
        var calls: Int64
        var totalBillableSeconds: Int64
        var averageSeconds: Int64
        var totalCost: MoneyText
        var series: [Bucket]
    }

    func addStatisticsRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("/stats") { request, _ in
            _ = try self.authorize(request, .billing)
            let period = try request.queryChoice("period") ?? "day"
            let zone = self.engine.timeZone
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let (start, end, unit) = try Self.span(period: period, at: request.query("at"), calendar: calendar,
                                                   now: self.engine.nowMillis())
            var edges: [Date] = []
            var cursor = start
            while cursor < end {
                edges.append(cursor)
                cursor = calendar.date(byAdding: unit, value: 1, to: cursor)!
            }
            let starts = edges.map { Int64($0.timeIntervalSince1970) * 1000 }
            let totals = Mutex([(calls: Int64, ms: Int64, micros: Int64)](repeating: (0, 0, 0), count: starts.count))
            let extensionNumber = request.query("extension")
            let query = HistoryQuery(from: starts.first, to: Int64(end.timeIntervalSince1970) * 1000,
                                     extensionNumber: extensionNumber)
            try await self.ledger.forEachAnsweredCall(query) { at, billable, cost in
                // Buckets are sorted: the last start at or before the call.
                var low = 0
                var high = starts.count - 1
                while low < high {
                    let mid = (low + high + 1) / 2
                    if starts[mid] <= at { low = mid } else { high = mid - 1 }
                }
                totals.withLock {
                    $0[low].calls += 1
                    $0[low].ms += billable
                    $0[low].micros = $0[low].micros &+ cost
                }
            }
            let sums = totals.withLock { $0 }
            let formatter = DateFormatter()
            formatter.timeZone = zone
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = switch unit {
            case .hour: "HH:00"
            case .day: "yyyy-MM-dd"
            default: "yyyy-MM"
            }
            let series = zip(edges, sums).map { edge, sum in
                Bucket(label: formatter.string(from: edge), start: Int64(edge.timeIntervalSince1970) * 1000,
                       calls: sum.calls, billableSeconds: (sum.ms + 999) / 1000, cost: MoneyText(Money(micros: sum.micros)))
            }
            let calls = sums.reduce(0) { $0 + $1.calls }
            let ms = sums.reduce(0) { $0 + $1.ms }
            let micros = sums.reduce(Int64(0)) { $0 &+ $1.micros }
            return try Response.json(Statistics(
                period: period, extensionNumber: extensionNumber, from: starts.first ?? 0,
                to: Int64(end.timeIntervalSince1970) * 1000, timeZone: zone.identifier, calls: calls,
                totalBillableSeconds: (ms + 999) / 1000, averageSeconds: calls == 0 ? 0 : (ms / calls + 999) / 1000,
                totalCost: MoneyText(Money(micros: micros)), series: series))
        }
    }

    /// The period's first instant, its end, and the series step: a day by hour, a month by day, a year by month.
    static func span(period: String, at text: String?, calendar: Calendar, now: Int64) throws
        -> (Date, Date, Calendar.Component)
    {
        let (component, step, pattern): (Calendar.Component, Calendar.Component, String) = switch period {
        case "day": (.day, .hour, "yyyy-MM-dd")
        case "month": (.month, .day, "yyyy-MM")
        case "year": (.year, .month, "yyyy")
        default: throw APIError.invalid("period must be day, month or year", field: "period")
        }
        var reference = Date(timeIntervalSince1970: Double(now / 1000))
        if let text {
            let parser = DateFormatter()
            parser.calendar = calendar
            parser.timeZone = calendar.timeZone
            parser.locale = Locale(identifier: "en_US_POSIX")
            parser.dateFormat = pattern
            guard text.count == pattern.count, let date = parser.date(from: text) else {
                throw APIError.invalid("at must be \(pattern) for a \(period)", field: "at")
            }
            reference = date
        }
        guard let interval = calendar.dateInterval(of: component, for: reference) else {
            throw APIError.invalid("at is out of range", field: "at")
        }
        return (interval.start, interval.end, step)
    }
}
