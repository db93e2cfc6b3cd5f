public import BillingCore
import GRDB
public import Journal

/// A search of the call log or the recharge history.
public struct HistoryQuery: Sendable, Hashable {
    /// Engine times, ms since the Unix epoch; `from` inclusive, `to` exclusive.
    public var from: Int64?
    public var to: Int64?
    /// Matches part of the extension number or the user name.
    public var keyword: String?
    /// Only this extension (exact number).
    public var extensionNumber: String?
    public var limit: Int
    public var offset: Int

    public init(from: Int64? = nil, to: Int64? = nil, keyword: String? = nil, extensionNumber: String? = nil,
                limit: Int = 100, offset: Int = 0) {
        self.from = from
        self.to = to
        self.keyword = keyword
        self.extensionNumber = extensionNumber
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
        if let extensionNumber {
            clauses.append("extension_number = ?")
            arguments += [extensionNumber]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    /// The call log rows to search (`FROM` this) and the `WHERE` clause on them. One extension's calls come
    /// through its index (``CallLogIndex``), the rest from the whole log.
    var callSource: (from: String, filter: String, arguments: StatementArguments) {
        guard let extensionNumber else {
            let (filter, arguments) = filter(timeColumn: "authorized_at")
            return ("calls", filter, arguments)
        }
        // The rows searched are that extension's already.
        var rest = self
        rest.extensionNumber = nil
        let (filter, arguments) = rest.filter(timeColumn: "authorized_at")
        return (CallLogIndex.extensionSource + " AS calls", filter, [extensionNumber, extensionNumber] + arguments)
    }
}

extension SQLiteLedger {
    /// Call log records, newest first.
    public func calls(_ query: HistoryQuery) async throws -> [CallRecord] {
        let (source, filter, arguments) = query.callSource
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(source) \(filter) ORDER BY authorized_at DESC, id DESC LIMIT ? OFFSET ?",
                             arguments: arguments + [query.limit, query.offset]).map(LedgerRows.call)
        }
    }

    /// How many call log records match (ignoring limit and offset).
    public func callCount(_ query: HistoryQuery) async throws -> Int {
        let (source, filter, arguments) = query.callSource
        return try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(source) \(filter)", arguments: arguments) ?? 0
        }
    }

    /// Every matching call record, newest first, streamed from one read transaction (exports).
    public func forEachCall(_ query: HistoryQuery, _ body: @Sendable (CallRecord) throws -> Void) async throws {
        let (source, filter, arguments) = query.callSource
        try await pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \(source) \(filter) ORDER BY authorized_at DESC, id DESC",
                                           arguments: arguments)
            while let row = try rows.next() { try body(try LedgerRows.call(row)) }
        }
    }

    /// Answered calls in a period, oldest first, as (authorized at, billable ms, cost in micros), for statistics.
    public func forEachAnsweredCall(_ query: HistoryQuery, _ body: @Sendable (Int64, Int64, Int64) -> Void) async throws {
        let (source, filter, arguments) = query.callSource
        let answered = filter.isEmpty ? "WHERE answered_at IS NOT NULL" : filter + " AND answered_at IS NOT NULL"
        try await pool.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT authorized_at, billable_ms, cost FROM \(source) \(answered) ORDER BY authorized_at",
                arguments: arguments)
            while let row = try rows.next() { body(row[0], row[1], row[2]) }
        }
    }

    /// How many recharges match (ignoring limit and offset).
    public func rechargeCount(_ query: HistoryQuery) async throws -> Int {
        let (filter, arguments) = query.filter(timeColumn: "at")
        return try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM recharges \(filter)", arguments: arguments) ?? 0
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
