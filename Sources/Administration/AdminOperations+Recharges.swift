package import BillingCore
package import Journal
import Foundation
package import Hummingbird
package import Ledger
import Metering

extension AdminOperations {
    /// Recharges each extension by `amount`, each committed before its result. With an idempotency key a retry
    /// (a double-submitted form, a lost reply, a restart) recharges each extension once, and says so (`replayed`).
    package func recharge(numbers: [String], amount: Money, note: String, idempotencyKey key: String?,
                          by session: AdminSession) async throws -> [ItemResult] {
        guard (1...10_000).contains(numbers.count), Set(numbers).count == numbers.count else {
            throw APIError.invalid("numbers must list 1 to 10,000 distinct extensions", field: "numbers")
        }
        let maximum = engine.policy.maxRecharge
        guard amount.isPositive, amount <= maximum else {
            throw APIError.invalid("amount must be more than 0 and at most \(maximum.decimalString)", field: "amount")
        }
        guard note.utf8.count <= 1024 else { throw APIError.invalid("note must be at most 1024 bytes", field: "note") }
        if let key, !(1...200).contains(key.utf8.count) {
            throw APIError.invalid("Idempotency-Key must be 1 to 200 bytes", field: "Idempotency-Key")
        }
        var results: [ItemResult] = []
        for number in numbers {
            do {
                _ = try await account(number)
                // One key per extension of the request, so a retried bulk recharge recharges each once,
                // including one cut short by a restart after some of its extensions were recharged.
                let outcome = try await engine.rechargeOutcome(
                    number: number, amount: amount, operatorName: session.user, note: note,
                    idempotencyKey: key.map { "\($0)#\(number)" })
                if !outcome.replayed { metrics.recharges.increment() }
                results.append(ItemResult(number: number, ok: true, recharge: RechargeView(outcome.record),
                                          replayed: outcome.replayed ? true : nil))
            } catch {
                let apiError = APIError(error)
                results.append(ItemResult(number: number, ok: false, error: apiError.message, code: apiError.code))
            }
        }
        return results
    }

    /// One page of the recharge history and how many records match.
    package func rechargeHistory(_ query: HistoryQuery) async throws -> (items: [RechargeRecord], total: Int) {
        async let records = ledger.recharges(query)
        async let total = ledger.rechargeCount(query)
        return (try await records, try await total)
    }

    /// Every recharge matching the query (up to ``Exports/maxRows``), as a CSV or XLSX download.
    package func rechargeExport(_ query: HistoryQuery, format: String) async throws -> Response {
        var all = query
        all.limit = 10_000
        all.offset = 0
        var rows: [[ExportCell]] = []
        var page = try await ledger.recharges(all)
        while !page.isEmpty && rows.count < Exports.maxRows {
            rows += page.map { rechargeExportRow($0) }
            all.offset += page.count
            page = page.count < all.limit ? [] : try await ledger.recharges(all)
        }
        return try Exports.response(format: format, name: "recharges", header: Exports.rechargeHeader, rows: rows)
    }

    func rechargeExportRow(_ record: RechargeRecord) -> [ExportCell] {
        let zone = engine.timeZone
        return [.text(APITime.format(record.at, in: zone)), .text(record.extensionNumber), .text(record.userName),
                .text(record.kind.rawValue), .money(record.balanceBefore), .money(record.amount),
                .money(record.balanceAfter), .text(record.operatorName), .text(record.note)]
    }
}

extension HistoryQuery {
    /// A history query's checks: a time block in order and a keyword of bounded length.
    package func validated() throws -> HistoryQuery {
        if let from = from, let to = to, from >= to {
            throw APIError.invalid("from must be before to", field: "from")
        }
        if let keyword = keyword, keyword.utf8.count > 64 {
            throw APIError.invalid("keyword must be at most 64 bytes", field: "keyword")
        }
        return self
    }
}
