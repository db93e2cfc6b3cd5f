import Administration
import BillingCore
import Foundation
import Hummingbird
import Journal
import Ledger
import Metering

extension AdminConsole {
    static var historyPerPage: Int { 100 }

    struct HistoryFilter {
        var from: String
        var to: String
        var keyword: String
        var exportQuery: String
        var total: Int
        var first: Int
        var last: Int
        var previous: String?
        var next: String?
        var form: FormState
    }

    struct RechargeRow {
        var time: String
        var extensionNumber: String
        var userName: String
        var operatorName: String
        var before: String
        var amount: String
        var after: String
        var note: String
        var adjustment: Bool
    }

    struct CallRow {
        var start: String
        var extensionNumber: String
        var userName: String
        var dialled: String
        var duration: String
        var billed: String
        var rate: String
        var cost: String
        var result: String
        var reason: String
        var cut: Bool
    }

    struct HistoryContent<Row> {
        var filter: HistoryFilter
        var rows: [Row]
        var empty: Bool
    }

    func addHistoryRoutes(_ billing: RouterGroup<AdminRequestContext>) {
        billing.get("/recharges") { request, context in
            let (query, filter) = historyQuery(request, path: "/recharges")
            var page: (items: [RechargeRecord], total: Int) = ([], 0)
            if filter.form.errors.isEmpty { page = try await operations.rechargeHistory(query) }
            let symbol = try await operations.currency().symbol
            let rows = page.items.map { record in
                RechargeRow(time: ConsoleFormat.time(record.at, zone), extensionNumber: record.extensionNumber,
                            userName: record.userName, operatorName: record.operatorName,
                            before: ConsoleFormat.money(record.balanceBefore, symbol),
                            amount: ConsoleFormat.money(record.amount, symbol),
                            after: ConsoleFormat.money(record.balanceAfter, symbol), note: record.note,
                            adjustment: record.kind != .recharge)
            }
            return try await render("recharges", title: "Recharge History", request, context, section: "/recharges",
                                    content: HistoryContent(filter: paged(filter, query, page.total, rows.count, "/recharges"),
                                                            rows: rows, empty: rows.isEmpty),
                                    status: filter.form.errors.isEmpty ? .ok : .badRequest)
        }
        billing.get("/recharges/export") { request, _ in
            let (query, filter) = historyQuery(request, path: "/recharges")
            if let problem = filter.form.errors.values.first { throw ConsoleFailure(.badRequest, problem) }
            return try await operations.rechargeExport(query, format: Self.exportFormat(request))
        }
        billing.get("/calls") { request, context in
            let (query, filter) = historyQuery(request, path: "/calls")
            var page: (items: [CallRecord], total: Int) = ([], 0)
            if filter.form.errors.isEmpty { page = try await operations.calls(query) }
            let symbol = try await operations.currency().symbol
            let rows = page.items.map { record in
                CallRow(start: ConsoleFormat.time(record.authorizedAt, zone), extensionNumber: record.extensionNumber,
                        userName: record.userName, dialled: record.dialled,
                        duration: record.answeredAt.map { ConsoleFormat.duration(seconds: max(0, record.endedAt - $0) / 1000) } ?? "",
                        billed: ConsoleFormat.duration(seconds: (record.billableMillis + 999) / 1000),
                        rate: record.rate.map {
                            "\($0.prefix): \(ConsoleFormat.money($0.tariff.rate, symbol))/\($0.tariff.unit) s"
                        } ?? "",
                        cost: ConsoleFormat.money(record.cost, symbol), result: record.result.rawValue,
                        reason: record.reason, cut: record.result == .cutoff || record.result == .denied)
            }
            return try await render("calls", title: "Call Log", request, context, section: "/calls",
                                    content: HistoryContent(filter: paged(filter, query, page.total, rows.count, "/calls"),
                                                            rows: rows, empty: rows.isEmpty),
                                    status: filter.form.errors.isEmpty ? .ok : .badRequest)
        }
        billing.get("/calls/export") { request, _ in
            let (query, filter) = historyQuery(request, path: "/calls")
            if let problem = filter.form.errors.values.first { throw ConsoleFailure(.badRequest, problem) }
            return try await operations.callExport(query, format: Self.exportFormat(request))
        }
    }

    static func exportFormat(_ request: Request) -> String { request.uri.queryParameters.get("format") == "csv" ? "csv" : "xlsx" }

    /// The search of a history page: the time block is typed in the configured time zone.
    private func historyQuery(_ request: Request, path: String) -> (HistoryQuery, HistoryFilter) {
        let parameters = request.uri.queryParameters
        let fromText = parameters.get("from") ?? ""
        let toText = parameters.get("to") ?? ""
        let keyword = String((parameters.get("keyword") ?? "").prefix(64)).trimmingCharacters(in: .whitespaces)
        var state = FormState()
        let from = fromText.isEmpty ? nil : ConsoleFormat.parseInputTime(fromText, zone)
        let to = toText.isEmpty ? nil : ConsoleFormat.parseInputTime(toText, zone)
        if !fromText.isEmpty && from == nil { state.errors["from"] = "type a date and time such as 2026-12-03T09:30" }
        if !toText.isEmpty && to == nil { state.errors["to"] = "type a date and time such as 2026-12-03T18:00" }
        if let from, let to, from >= to { state.errors["to"] = "the end must be after the start" }
        let offset = max(0, parameters.get("offset").flatMap(Int.init) ?? 0)
        let query = HistoryQuery(from: from, to: to, keyword: keyword.isEmpty ? nil : keyword, limit: Self.historyPerPage,
                                 offset: offset)
        var exportQuery = ""
        for (name, value) in [("from", fromText), ("to", toText), ("keyword", keyword)] where !value.isEmpty {
            exportQuery += "&\(name)=\(Self.queryEscape(value))"
        }
        return (query, HistoryFilter(from: fromText, to: toText, keyword: keyword, exportQuery: exportQuery, total: 0,
                                     first: 0, last: 0, form: state))
    }

    private func paged(_ filter: HistoryFilter, _ query: HistoryQuery, _ total: Int, _ count: Int, _ path: String)
        -> HistoryFilter
    {
        var filter = filter
        filter.total = total
        filter.first = count == 0 ? 0 : query.offset + 1
        filter.last = query.offset + count
        let base = path + "?" + filter.exportQuery.dropFirst()
        let joiner = filter.exportQuery.isEmpty ? "" : "&"
        if query.offset > 0 { filter.previous = base + joiner + "offset=\(max(0, query.offset - query.limit))" }
        if query.offset + count < total { filter.next = base + joiner + "offset=\(query.offset + query.limit)" }
        return filter
    }
}
