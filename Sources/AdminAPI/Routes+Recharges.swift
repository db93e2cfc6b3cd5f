import BillingCore
import Foundation
import Hummingbird
import HTTPTypes
import Ledger
import Metering

extension AdminAPI {
    struct RechargeRequest: Decodable {
        var numbers: [String]
        var amount: MoneyText
        var note: String?
    }

    func addRechargeRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.post("/recharges") { request, _ in
            let session = try self.authorize(request, .billing)
            let recharge = try await request.decodeJSON(RechargeRequest.self)
            guard (1...10_000).contains(recharge.numbers.count), Set(recharge.numbers).count == recharge.numbers.count else {
                throw APIError.invalid("numbers must list 1 to 10,000 distinct extensions", field: "numbers")
            }
            let maximum = self.engine.policy.maxRecharge
            guard recharge.amount.money.isPositive, recharge.amount.money <= maximum else {
                throw APIError.invalid("amount must be more than 0 and at most \(maximum.decimalString)", field: "amount")
            }
            let note = recharge.note ?? ""
            guard note.utf8.count <= 1024 else { throw APIError.invalid("note must be at most 1024 bytes", field: "note") }
            let key = request.headers[HTTPField.Name("Idempotency-Key")!]
            if let key, !(1...200).contains(key.utf8.count) {
                throw APIError.invalid("Idempotency-Key must be 1 to 200 bytes", field: "Idempotency-Key")
            }
            var results: [ItemResult] = []
            for number in recharge.numbers {
                do {
                    _ = try await self.account(number)
                    // One key per extension of the request, so a retried bulk recharge recharges each once,
                    // including one cut short by a restart after some of its extensions were recharged.
                    let outcome = try await self.engine.rechargeOutcome(
                        number: number, amount: recharge.amount.money, operatorName: session.user, note: note,
                        idempotencyKey: key.map { "\($0)#\(number)" })
                    if !outcome.replayed { self.metrics.recharges.increment() }
                    results.append(ItemResult(number: number, ok: true, recharge: RechargeView(outcome.record),
                                              replayed: outcome.replayed ? true : nil))
                } catch {
                    let apiError = APIError(error)
                    results.append(ItemResult(number: number, ok: false, error: apiError.message, code: apiError.code))
                }
            }
            return try Response.json(results)
        }
        api.get("/recharges") { request, _ in
            _ = try self.authorize(request, .billing)
            let query = try self.historyQuery(request)
            switch try request.queryChoice("format") ?? "json" {
            case "json":
                async let records = self.ledger.recharges(query)
                async let total = self.ledger.rechargeCount(query)
                return try Response.json(Page(items: try await records.map(RechargeView.init), total: try await total,
                                              limit: query.limit, offset: query.offset))
            case let format:
                var all = query
                all.limit = 10_000
                all.offset = 0
                var rows: [[ExportCell]] = []
                var page = try await self.ledger.recharges(all)
                while !page.isEmpty && rows.count < Exports.maxRows {
                    rows += page.map { self.rechargeExportRow($0) }
                    all.offset += page.count
                    page = page.count < all.limit ? [] : try await self.ledger.recharges(all)
                }
                return try Exports.response(format: format, name: "recharges", header: Exports.rechargeHeader, rows: rows)
            }
        }
    }

    /// The time block, keyword, extension and paging of a history search.
    func historyQuery(_ request: Request) throws -> HistoryQuery {
        let from = try request.queryTime("from")
        let to = try request.queryTime("to")
        if let from, let to, from >= to { throw APIError.invalid("from must be before to", field: "from") }
        if let keyword = request.query("keyword"), keyword.utf8.count > 64 {
            throw APIError.invalid("keyword must be at most 64 bytes", field: "keyword")
        }
        return HistoryQuery(from: from, to: to, keyword: request.query("keyword"), extensionNumber: request.query("extension"),
                            limit: try request.query("limit", in: 1...10_000, default: 100),
                            offset: try request.query("offset", in: 0...Int(Int32.max), default: 0))
    }

    func rechargeExportRow(_ record: RechargeRecord) -> [ExportCell] {
        let zone = engine.timeZone
        return [.text(APITime.format(record.at, in: zone)), .text(record.extensionNumber), .text(record.userName),
                .text(record.kind.rawValue), .money(record.balanceBefore), .money(record.amount),
                .money(record.balanceAfter), .text(record.operatorName), .text(record.note)]
    }
}
