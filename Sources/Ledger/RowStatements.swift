import GRDB

/// The statements a batch runs once per row, each looked up in GRDB's statement cache once per batch.
///
/// The cache finds a statement by hashing its SQL, a few hundred bytes: per row, that hash cost about as much as
/// binding the row's values. Only the writer's transaction uses an instance, which lives as long as one batch.
final class RowStatements {
    private let db: Database
    private var calls: Statement?
    private var postings: Statement?
    private var liveCalls: Statement?
    private var balances: Statement?

    init(_ db: Database) { self.db = db }

    /// A call record: one row per attempt.
    func callInsert() throws -> Statement {
        try cached(&calls, """
            INSERT INTO calls (call_id, extension_number, user_name, dialled, rate_id, rate_prefix,
                initial_cost, initial_time, rate, unit, authorized_at, answered_at, ended_at, billable_ms, cost,
                charged, result, reason, balance_after)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// A ledger row.
    func postingInsert() throws -> Statement {
        try cached(&postings, """
            INSERT INTO ledger (extension_number, kind, amount, balance_before, balance_after, at, call_id)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// A live call's checkpointed state.
    func liveCallUpsert() throws -> Statement {
        try cached(&liveCalls, """
            INSERT INTO live_calls (call_id, extension_number, dialled, rate_id, rate_prefix, initial_cost,
                initial_time, rate, unit, unbilled_reason, authorized_at, answered_at, charges_made, charged, cut_at,
                billing_stopped_at, suspended_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(call_id) DO UPDATE SET answered_at = excluded.answered_at,
                charges_made = excluded.charges_made, charged = excluded.charged, cut_at = excluded.cut_at,
                billing_stopped_at = excluded.billing_stopped_at, suspended_at = excluded.suspended_at
            """)
    }

    /// An extension's balance row.
    func balanceUpdate() throws -> Statement {
        try cached(&balances, """
            UPDATE extensions SET balance = ?, total_recharges = ?, checkpoint_at = ? WHERE number = ?
            """)
    }

    private func cached(_ slot: inout Statement?, _ sql: String) throws -> Statement {
        if let slot { return slot }
        let statement = try db.cachedStatement(sql: sql)
        slot = statement
        return statement
    }
}
