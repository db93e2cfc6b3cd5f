import BillingCore
import GRDB
import Journal

/// Writes one drained batch inside one transaction, with cached prepared statements (no Codable inserts on
/// the hot path: they are several times slower here).
enum BatchWriter {
    /// Returns how many call log rows it wrote.
    @discardableResult
    static func apply(_ batch: JournalQueue.Batch, to db: Database) throws -> Int {
        let statements = RowStatements(db)
        var calls = 0
        // By index: a for-in loop copies each element out (retaining every string and array in it) per row.
        for index in batch.entries.indices {
            if try apply(batch.entries[index], to: db, statements) { calls += 1 }
        }
        if !batch.liveRowsToDelete.isEmpty {
            let delete = try db.cachedStatement(sql: "DELETE FROM live_calls WHERE call_id = ?")
            for callID in batch.liveRowsToDelete {
                var bindings = Bindings(delete)
                bindings.bind(callID)
                try bindings.execute()
            }
        }
        for index in batch.checkpoints.indices { try apply(batch.checkpoints[index], to: db, statements) }
        if let instant = batch.meteredThrough {
            try db.cachedStatement(sql: "UPDATE engine_state SET metered_through = MAX(metered_through, ?) WHERE id = 1")
                .execute(arguments: [instant])
        }
        return calls
    }

    /// Returns whether it wrote a call log row.
    @discardableResult
    static func apply(_ entry: JournalEntry, to db: Database, _ statements: RowStatements) throws -> Bool {
        switch entry {
        case .extensionSaved(let account):
            try db.cachedStatement(sql: """
                INSERT INTO extensions (number, user_name, billing_enabled, payment_type, status, balance, credit,
                    total_recharges)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(number) DO UPDATE SET user_name = excluded.user_name,
                    billing_enabled = excluded.billing_enabled, payment_type = excluded.payment_type,
                    status = excluded.status, credit = excluded.credit, total_recharges = excluded.total_recharges
                """).execute(arguments: [
                    account.number, account.userName, account.billingEnabled, account.paymentType.rawValue,
                    account.status.rawValue, account.balance.micros, account.credit.micros,
                    account.totalRecharges.micros,
                ])
        case .recharged(let record, let posting):
            try db.cachedStatement(sql: """
                INSERT INTO recharges (extension_number, user_name, kind, amount, balance_before, balance_after, at,
                    operator, note, idempotency_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    record.extensionNumber, record.userName, record.kind.rawValue, record.amount.micros,
                    record.balanceBefore.micros, record.balanceAfter.micros, record.at, record.operatorName,
                    record.note, record.idempotencyKey,
                ])
            try insert(posting, statements)
        case .settled(let record, let posting):
            // Its live row, if it has one, is deleted with the batch (`JournalQueue.Batch.liveRowsToDelete`).
            try insert(record, statements)
            if let posting { try insert(posting, statements) }
            return true
        case .denied(let record):
            try insert(record, statements)
            return true
        case .rateSaved(let rate):
            try db.cachedStatement(sql: """
                INSERT INTO rates (id, active, remarks, prefix, number_length, initial_cost, initial_time, rate, unit,
                    start_second, end_second)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET active = excluded.active, remarks = excluded.remarks,
                    prefix = excluded.prefix, number_length = excluded.number_length,
                    initial_cost = excluded.initial_cost, initial_time = excluded.initial_time, rate = excluded.rate,
                    unit = excluded.unit, start_second = excluded.start_second, end_second = excluded.end_second
                """).execute(arguments: [
                    rate.id, rate.active, rate.remarks, rate.prefix, rate.numberLength, rate.tariff.initialCost.micros,
                    rate.tariff.initialTime, rate.tariff.rate.micros, rate.tariff.unit, rate.block.start,
                    rate.block.end,
                ])
            try db.cachedStatement(sql: "DELETE FROM rate_extensions WHERE rate_id = ?").execute(arguments: [rate.id])
            let assign = try db.cachedStatement(sql: "INSERT INTO rate_extensions (rate_id, extension_number) VALUES (?, ?)")
            for number in rate.extensions.sorted() { try assign.execute(arguments: [rate.id, number]) }
        case .rateDeleted(let id):
            try db.cachedStatement(sql: "DELETE FROM rates WHERE id = ?").execute(arguments: [id])
        case .policySaved(let policy):
            try db.cachedStatement(sql: """
                INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value
                """).execute(arguments: [SettingKey.policy, try SettingsCodec.encode(policy)])
        case .settingSaved(let key, let value):
            try db.cachedStatement(sql: """
                INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value
                """).execute(arguments: [key, value])
        }
        return false
    }

    static func apply(_ checkpoint: AccountCheckpoint, to db: Database, _ statements: RowStatements) throws {
        if checkpoint.balanceChanged { try storeBalance(of: checkpoint, statements) }
        guard !checkpoint.calls.isEmpty else { return }
        let upsert = try statements.liveCallUpsert()
        for call in checkpoint.calls {
            var bindings = Bindings(upsert)
            bindings.bind(call.callID)
            bindings.bind(checkpoint.extensionNumber)
            bindings.bind(call.dialled)
            bindRate(call.rate, into: &bindings)
            bindings.bind(call.unbilledReason?.rawValue)
            bindings.bind(call.authorizedAt)
            bindings.bind(call.answeredAt)
            bindings.bind(call.chargesMade)
            bindings.bind(call.charged.micros)
            bindings.bind(call.cutAt)
            bindings.bind(call.billingStoppedAt)
            bindings.bind(call.suspendedAt)
            try bindings.execute()
        }
    }

    /// The balance row. Its `checkpoint_at` is the last checkpoint that moved the balance; recovery takes the
    /// later of it and `engine_state.metered_through`, which no checkpoint is ever ahead of.
    private static func storeBalance(of checkpoint: AccountCheckpoint, _ statements: RowStatements) throws {
        var bindings = Bindings(try statements.balanceUpdate())
        bindings.bind(checkpoint.balance.micros)
        bindings.bind(checkpoint.totalRecharges.micros)
        bindings.bind(checkpoint.at)
        bindings.bind(checkpoint.extensionNumber)
        try bindings.execute()
    }

    /// Binds a rate snapshot as (rate_id, rate_prefix, initial_cost, initial_time, rate, unit).
    private static func bindRate(_ rate: RateSnapshot?, into bindings: inout Bindings) {
        bindings.bind(rate?.rateID)
        bindings.bind(rate?.prefix)
        bindings.bind(rate?.tariff.initialCost.micros)
        bindings.bind(rate?.tariff.initialTime)
        bindings.bind(rate?.tariff.rate.micros)
        bindings.bind(rate?.tariff.unit)
    }

    private static func insert(_ record: CallRecord, _ statements: RowStatements) throws {
        // One row per attempt: a call refused and then authorized again under the same id (the PBX retried
        // after a recharge) has both rows. Settling exactly once is the engine's job (a call settles when it
        // leaves the live set); the log never drops a settlement whose money moved.
        var bindings = Bindings(try statements.callInsert())
        bindings.bind(record.callID)
        bindings.bind(record.extensionNumber)
        bindings.bind(record.userName)
        bindings.bind(record.dialled)
        bindRate(record.rate, into: &bindings)
        bindings.bind(record.authorizedAt)
        bindings.bind(record.answeredAt)
        bindings.bind(record.endedAt)
        bindings.bind(record.billableMillis)
        bindings.bind(record.cost.micros)
        bindings.bind(record.charged.micros)
        bindings.bind(record.result.rawValue)
        bindings.bind(record.reason)
        bindings.bind(record.balanceAfter.micros)
        try bindings.execute()
    }

    private static func insert(_ posting: LedgerPosting, _ statements: RowStatements) throws {
        var bindings = Bindings(try statements.postingInsert())
        bindings.bind(posting.extensionNumber)
        bindings.bind(posting.kind.rawValue)
        bindings.bind(posting.amount.micros)
        bindings.bind(posting.ledgerBalanceBefore.micros)
        bindings.bind(posting.ledgerBalanceAfter.micros)
        bindings.bind(posting.at)
        bindings.bind(posting.callID)
        try bindings.execute()
    }
}
