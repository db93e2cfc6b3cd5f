public import BillingCore
import GRDB
public import Metering

/// A search of the call log or the recharge history.
public struct HistoryQuery: Sendable, Hashable {
    /// Engine times, ms since the Unix epoch; `from` inclusive, `to` exclusive.
    public var from: Int64?
    public var to: Int64?
    /// Matches part of the extension number or the user name.
    public var keyword: String?
    public var limit: Int
    public var offset: Int

    public init(from: Int64? = nil, to: Int64? = nil, keyword: String? = nil, limit: Int = 100, offset: Int = 0) {
        self.from = from
        self.to = to
        self.keyword = keyword
        self.limit = min(max(limit, 1), 10_000)
        self.offset = max(offset, 0)
    }

    func filter(timeColumn: String) -> (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let from {
            clauses.append("\(timeColumn) >= ?")
            arguments += [from]
        }
        if let to {
            clauses.append("\(timeColumn) < ?")
            arguments += [to]
        }
        if let keyword, !keyword.isEmpty {
            let pattern = "%" + keyword.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            clauses.append("(extension_number LIKE ? ESCAPE '\\' OR user_name LIKE ? ESCAPE '\\')")
            arguments += [pattern, pattern]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }
}

extension SQLiteLedger {
    /// Call log records, newest first.
    public func calls(_ query: HistoryQuery) async throws -> [CallRecord] {
        let (filter, arguments) = query.filter(timeColumn: "authorized_at")
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM calls \(filter) ORDER BY authorized_at DESC, id DESC LIMIT ? OFFSET ?",
                             arguments: arguments + [query.limit, query.offset]).map(LedgerRows.call)
        }
    }

    /// Recharges and adjustments, newest first.
    public func recharges(_ query: HistoryQuery) async throws -> [RechargeRecord] {
        let (filter, arguments) = query.filter(timeColumn: "at")
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM recharges \(filter) ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
                             arguments: arguments + [query.limit, query.offset]).map(LedgerRows.recharge)
        }
    }
}
