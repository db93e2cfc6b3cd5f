import BillingCore
import Foundation
import Hummingbird
import Ledger
import Synchronization

extension AdminAPI {
    func addCallRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("/calls") { request, _ in
            _ = try self.authorize(request, .billing)
            let query = try self.historyQuery(request)
            async let records = self.ledger.calls(query)
            async let total = self.ledger.callCount(query)
            return try Response.json(Page(items: try await records.map(CallView.init), total: try await total,
                                          limit: query.limit, offset: query.offset))
        }
        api.get("/calls/export") { request, _ in
            _ = try self.authorize(request, .billing)
            let query = try self.historyQuery(request)
            let format = try request.queryChoice("format") ?? "csv"
            guard format == "csv" || format == "xlsx" else {
                throw APIError.invalid("format must be csv or xlsx", field: "format")
            }
            let zone = self.engine.timeZone
            let rows = Mutex<[[ExportCell]]>([])
            try await self.ledger.forEachCall(query) { record in
                let full = rows.withLock { rows in
                    guard rows.count < Exports.maxRows else { return true }
                    rows.append(Self.exportRow(record, zone: zone))
                    return false
                }
                if full { throw APIError.invalid("more than \(Exports.maxRows) calls match; narrow the time block", field: "from") }
            }
            return try Exports.response(format: format, name: "calls", header: Exports.callHeader,
                                        rows: rows.withLock { $0 })
        }
    }

    static func exportRow(_ record: CallRecord, zone: TimeZone) -> [ExportCell] {
        [.text(APITime.format(record.authorizedAt, in: zone)), .text(record.extensionNumber), .text(record.userName),
         .text(record.dialled), .text(record.rate?.prefix ?? ""),
         .text(record.answeredAt.map { APITime.format($0, in: zone) } ?? ""), .text(APITime.format(record.endedAt, in: zone)),
         .integer((record.billableMillis + 999) / 1000), .money(record.cost), .text(record.result.rawValue),
         .text(record.reason), .money(record.balanceAfter), .text(record.callID)]
    }
}
