package import BillingCore
import Foundation
package import Hummingbird
package import Ledger
import Synchronization

extension AdminOperations {
    /// One page of the call log and how many calls match.
    package func calls(_ query: HistoryQuery) async throws -> (items: [CallRecord], total: Int) {
        async let records = ledger.calls(query)
        async let total = ledger.callCount(query)
        return (try await records, try await total)
    }

    /// Every call matching the query, as a CSV or XLSX download; refused past ``Exports/maxRows``.
    package func callExport(_ query: HistoryQuery, format: String) async throws -> Response {
        guard format == "csv" || format == "xlsx" else {
            throw APIError.invalid("format must be csv or xlsx", field: "format")
        }
        let zone = engine.timeZone
        let rows = Mutex<[[ExportCell]]>([])
        try await ledger.forEachCall(query) { record in
            let full = rows.withLock { rows in
                guard rows.count < Exports.maxRows else { return true }
                rows.append(Self.exportRow(record, zone: zone))
                return false
            }
            if full { throw APIError.invalid("more than \(Exports.maxRows) calls match; narrow the time block", field: "from") }
        }
        return try Exports.response(format: format, name: "calls", header: Exports.callHeader, rows: rows.withLock { $0 })
    }

    static func exportRow(_ record: CallRecord, zone: TimeZone) -> [ExportCell] {
        [.text(APITime.format(record.authorizedAt, in: zone)), .text(record.extensionNumber), .text(record.userName),
         .text(record.dialled), .text(record.rate?.prefix ?? ""),
         .text(record.answeredAt.map { APITime.format($0, in: zone) } ?? ""), .text(APITime.format(record.endedAt, in: zone)),
         .integer((record.billableMillis + 999) / 1000), .money(record.cost), .text(record.result.rawValue),
         .text(record.reason), .money(record.balanceAfter), .text(record.callID)]
    }
}
