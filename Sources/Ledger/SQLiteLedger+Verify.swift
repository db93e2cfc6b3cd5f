import BillingCore
import GRDB

extension SQLiteLedger {
    /// Recomputes every balance from the ledger (design.md §11) and lists each difference:
    /// - each extension's ledger rows chain (`before` = the previous `after`, starting at 0; `after` =
    ///   `before + amount`);
    /// - the last `after` equals the stored balance plus what its open calls hold;
    /// - recharge rows match the recharge history, settlement rows match the call log's costs;
    /// - the call log's per-extension index holds exactly the calls up to its watermark (``CallLogIndex``).
    public func verify() async throws -> [LedgerDiscrepancy] {
        try await pool.read { db in
            var problems: [LedgerDiscrepancy] = []
            var ledgerBalance: [String: Int64] = [:]
            var postedRecharges: [String: Int64] = [:]
            var postedSettlements: [String: Int64] = [:]
            let ledgerRows = try Row.fetchCursor(db, sql: "SELECT * FROM ledger ORDER BY extension_number, id")
            while let row = try ledgerRows.next() {
                let number: String = row["extension_number"]
                let amount: Int64 = row["amount"]
                let before: Int64 = row["balance_before"]
                let after: Int64 = row["balance_after"]
                let id: Int64 = row["id"]
                let expectedBefore = ledgerBalance[number] ?? 0
                if before != expectedBefore {
                    problems.append(.init(extensionNumber: number,
                                          message: "ledger row \(id) starts at \(before), previous ended at \(expectedBefore)"))
                }
                let (sum, overflow) = before.addingReportingOverflow(amount)
                if overflow || sum != after {
                    problems.append(.init(extensionNumber: number,
                                          message: "ledger row \(id): \(before) + \(amount) != \(after)"))
                }
                ledgerBalance[number] = after
                switch row["kind"] as String {
                case PostingKindName.settlement: postedSettlements[number, default: 0] += amount
                default: postedRecharges[number, default: 0] += amount
                }
            }
            var held: [String: Int64] = [:]
            let holds = try Row.fetchCursor(db, sql: "SELECT extension_number, SUM(charged) AS held FROM live_calls GROUP BY extension_number")
            while let row = try holds.next() {
                held[row["extension_number"]] = row["held"]
            }
            var recharged: [String: Int64] = [:]
            let rechargeTotals = try Row.fetchCursor(db, sql: "SELECT extension_number, SUM(amount) AS total FROM recharges GROUP BY extension_number")
            while let row = try rechargeTotals.next() {
                recharged[row["extension_number"]] = row["total"]
            }
            var billed: [String: Int64] = [:]
            let callCosts = try Row.fetchCursor(db, sql: "SELECT extension_number, SUM(cost) AS total FROM calls GROUP BY extension_number")
            while let row = try callCosts.next() {
                billed[row["extension_number"]] = row["total"]
            }
            let balances = try Row.fetchCursor(db, sql: "SELECT number, balance FROM extensions ORDER BY number")
            while let row = try balances.next() {
                let number: String = row["number"]
                let balance: Int64 = row["balance"]
                let expected = ledgerBalance[number] ?? 0
                let actual = balance + (held[number] ?? 0)
                if actual != expected {
                    problems.append(.init(extensionNumber: number, message:
                        "balance \(Money(micros: balance)) + live holds \(Money(micros: held[number] ?? 0)) = \(Money(micros: actual)), ledger says \(Money(micros: expected))"))
                }
                if (recharged[number] ?? 0) != (postedRecharges[number] ?? 0) {
                    problems.append(.init(extensionNumber: number, message:
                        "recharge history sums to \(Money(micros: recharged[number] ?? 0)), ledger to \(Money(micros: postedRecharges[number] ?? 0))"))
                }
                if (billed[number] ?? 0) != -(postedSettlements[number] ?? 0) {
                    problems.append(.init(extensionNumber: number, message:
                        "call log costs sum to \(Money(micros: billed[number] ?? 0)), ledger settlements to \(Money(micros: -(postedSettlements[number] ?? 0)))"))
                }
            }
            try problems += CallLogIndex.discrepancies(db)
            return problems
        }
    }
}

private enum PostingKindName {
    static let settlement = "settlement"
}
