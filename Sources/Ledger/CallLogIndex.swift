import GRDB

/// The call log's per-extension index: a database file of its own beside the ledger, kept by
/// ``CallLogIndexer`` in sorted steps behind the log.
///
/// As an SQLite index on `calls(extension_number, authorized_at)` it cost a random B-tree page per call: a commit
/// of 1,500 calls over 20,000 extensions wrote ~1,500 index pages and wrote them again at the WAL checkpoint, on
/// the one thread every settlement waits for. Kept apart, the writer commits only the log, and the indexer adds
/// the calls after its watermark in sorted steps on a thread of its own. Everything in it can be rebuilt from
/// the log, so it is written without waiting for the disk; its watermark moves in the same transaction as the
/// rows it covers, so a reader sees the two agree. A search of one extension reads the index up to the
/// watermark and scans the log after it (``extensionSource``).
enum CallLogIndex {
    /// The name the index's file is attached under, on the ledger's connections.
    static let schema = "call_index"
    /// Bumped when the index's tables change: a file with another version is rebuilt.
    static let version = 1

    /// The index's file, beside the ledger's.
    static func path(ledgerPath: String) -> String {
        let base = ledgerPath.hasSuffix(".sqlite") ? String(ledgerPath.dropLast(".sqlite".count)) : ledgerPath
        return base + "-call-index.sqlite"
    }

    /// Creates the index's tables in the index's own connection (where it is `main`).
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS calls_by_extension (
                extension_number TEXT NOT NULL,
                authorized_at INTEGER NOT NULL,
                id INTEGER NOT NULL,
                PRIMARY KEY (extension_number, authorized_at, id)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                ledger_id TEXT NOT NULL,
                indexed_through INTEGER NOT NULL
            );
            INSERT OR IGNORE INTO state (id, ledger_id, indexed_through) VALUES (1, '', 0);
            """)
    }

    /// Empties the index when it was built from another ledger (a file restored or replaced) or from a log
    /// that has since lost calls; `ledger` is the ledger's schema name on this connection.
    static func adopt(_ db: Database, ledger: String) throws {
        let ledgerID = try String.fetchOne(db, sql: "SELECT ledger_id FROM \(ledger).engine_state WHERE id = 1") ?? ""
        let lastCall = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM \(ledger).calls") ?? 0
        let state = try Row.fetchOne(db, sql: "SELECT ledger_id, indexed_through FROM state WHERE id = 1")
        let (indexedFor, through): (String, Int64) = (state?["ledger_id"] ?? "", state?["indexed_through"] ?? 0)
        guard indexedFor != ledgerID || through > lastCall else { return }
        try db.inTransaction(.deferred) {
            try db.execute(sql: "DELETE FROM calls_by_extension")
            try db.execute(sql: "UPDATE state SET ledger_id = ?, indexed_through = 0 WHERE id = 1", arguments: [ledgerID])
            return .commit
        }
    }

    /// Calls in the log after the watermark.
    static func unindexed(_ db: Database, ledger: String) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM \(ledger).calls WHERE id > (SELECT indexed_through FROM state WHERE id = 1)
            """) ?? 0
    }

    /// Adds up to `limit` of the calls after the watermark to the index, oldest first, in one transaction.
    /// Returns how many it added.
    static func extend(_ db: Database, ledger: String, limit: Int) throws -> Int {
        var added = 0
        // Deferred: an immediate transaction would take the write lock of the attached ledger too.
        try db.inTransaction(.deferred) {
            let from = try Int64.fetchOne(db, sql: "SELECT indexed_through FROM state WHERE id = 1") ?? 0
            let last = try Int64.fetchOne(db, sql: """
                SELECT MAX(id) FROM (SELECT id FROM \(ledger).calls WHERE id > ? ORDER BY id LIMIT ?)
                """, arguments: [from, limit])
            guard let last else { return .commit }
            // Sorted like the index, so that the B-tree takes them in order, one page of each extension at a time.
            try db.execute(sql: """
                INSERT INTO calls_by_extension (extension_number, authorized_at, id)
                    SELECT extension_number, authorized_at, id FROM \(ledger).calls WHERE id > ? AND id <= ?
                    ORDER BY extension_number, authorized_at, id
                """, arguments: [from, last])
            added = db.changesCount
            try db.execute(sql: "UPDATE state SET indexed_through = ? WHERE id = 1", arguments: [last])
            return .commit
        }
        return added
    }

    /// Calls up to the watermark missing from the index (or indexed under another extension or time), and
    /// index rows that match no call up to it; on a ledger connection, with the index attached.
    static func discrepancies(_ db: Database) throws -> [LedgerDiscrepancy] {
        var problems: [LedgerDiscrepancy] = []
        let through = "(SELECT indexed_through FROM \(schema).state WHERE id = 1)"
        let missing = try Row.fetchCursor(db, sql: """
            SELECT id, extension_number FROM calls c WHERE id <= \(through) AND NOT EXISTS (
                SELECT 1 FROM \(schema).calls_by_extension x
                WHERE x.extension_number = c.extension_number AND x.authorized_at = c.authorized_at AND x.id = c.id)
            """)
        while let row = try missing.next() {
            problems.append(.init(extensionNumber: row["extension_number"],
                                  message: "call \(row["id"] as Int64) is not in the per-extension index"))
        }
        let stray = try Row.fetchCursor(db, sql: """
            SELECT id, extension_number FROM \(schema).calls_by_extension x WHERE id > \(through) OR NOT EXISTS (
                SELECT 1 FROM calls c
                WHERE c.id = x.id AND c.extension_number = x.extension_number AND c.authorized_at = x.authorized_at)
            """)
        while let row = try stray.next() {
            problems.append(.init(extensionNumber: row["extension_number"],
                                  message: "per-extension index row for call \(row["id"] as Int64) has no such call"))
        }
        return problems
    }

    /// The columns of `calls`, in the table's order.
    static let columns = [
        "id", "call_id", "extension_number", "user_name", "dialled", "rate_id", "rate_prefix", "initial_cost",
        "initial_time", "rate", "unit", "authorized_at", "answered_at", "ended_at", "billable_ms", "cost", "charged",
        "result", "reason", "balance_after",
    ]

    /// A subquery of the call log's rows for one extension (the same number bound to both its placeholders),
    /// with the columns of `calls`: the indexed calls through the index, the rest by scanning the calls after
    /// the watermark. Conditions on it are pushed into both arms, and under an `ORDER BY authorized_at DESC,
    /// id DESC` SQLite merges the two, reading the index backwards and stopping at the limit.
    ///
    /// The two arms see the same calls whatever the index's progress: a reader's snapshots of the two files
    /// may be taken at different moments, but the index only ever holds calls committed to the log, so a
    /// watermark ahead of the log's snapshot names calls the join does not find and the scan skips, and one
    /// behind it leaves them to the scan.
    static let extensionSource: String = {
        // The index's own columns, so that the merge can take the index's order instead of sorting.
        let indexed = columns.map { column in
            ["id", "extension_number", "authorized_at"].contains(column) ? "x.\(column) AS \(column)" : "c.\(column)"
        }.joined(separator: ", ")
        // NOT INDEXED: the tail is found by rowid; without statistics SQLite could pick `calls_by_time` instead
        // and scan the whole log in the queried period.
        return """
            (SELECT \(indexed) FROM \(schema).calls_by_extension x JOIN main.calls c ON c.id = x.id
                WHERE x.extension_number = ?
            UNION ALL
            SELECT \(columns.joined(separator: ", ")) FROM main.calls NOT INDEXED
                WHERE id > (SELECT indexed_through FROM \(schema).state WHERE id = 1) AND extension_number = ?)
            """
    }()
}
