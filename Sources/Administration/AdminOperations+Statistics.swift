import BillingCore
package import Foundation
import Ledger
import Synchronization

/// One bar of a statistics series: an hour of a day, a day of a month or a month of a year.
package struct Bucket: Codable, Sendable {
    package var label: String
    package var start: Int64
    package var calls: Int64
    package var billableSeconds: Int64
    package var cost: MoneyText
}

/// Totals of answered outbound calls over a day, a month or a year, with the per-hour/day/month series.
package struct Statistics: Codable, Sendable {
    package var period: String
    package var extensionNumber: String?
    package var from: Int64
    package var to: Int64
    package var timeZone: String
    package var calls: Int64
    package var totalBillableSeconds: Int64
    package var averageSeconds: Int64
    package var totalCost: MoneyText
    package var series: [Bucket]
}

extension AdminOperations {
    /// Statistics for `period` (day, month or year) containing `at` (yyyy-MM-dd, yyyy-MM or yyyy; now when nil),
    /// in the configured time zone, for one extension or all.
    package func statistics(period: String, at: String?, extension extensionNumber: String?) async throws -> Statistics {
        let zone = engine.timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let (start, end, unit) = try Self.span(period: period, at: at, calendar: calendar,
                                               now: engine.nowMillis())
        var edges: [Date] = []
        var cursor = start
        while cursor < end {
            edges.append(cursor)
            cursor = calendar.date(byAdding: unit, value: 1, to: cursor)!
        }
        let starts = edges.map { Int64($0.timeIntervalSince1970) * 1000 }
        let totals = Mutex([(calls: Int64, ms: Int64, micros: Int64)](repeating: (0, 0, 0), count: starts.count))
        let query = HistoryQuery(from: starts.first, to: Int64(end.timeIntervalSince1970) * 1000,
                                 extensionNumber: extensionNumber)
        try await ledger.forEachAnsweredCall(query) { at, billable, cost in
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
        return Statistics(
            period: period, extensionNumber: extensionNumber, from: starts.first ?? 0,
            to: Int64(end.timeIntervalSince1970) * 1000, timeZone: zone.identifier, calls: calls,
            totalBillableSeconds: (ms + 999) / 1000, averageSeconds: calls == 0 ? 0 : (ms / calls + 999) / 1000,
            totalCost: MoneyText(Money(micros: micros)), series: series)
    }

    /// The period's first instant, its end, and the series step: a day by hour, a month by day, a year by month.
    package static func span(period: String, at text: String?, calendar: Calendar, now: Int64) throws
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
