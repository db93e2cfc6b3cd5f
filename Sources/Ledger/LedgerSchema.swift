import GRDB

/// The SQLite schema, as named migrations applied in order.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-accounts-rates-calls-ledger") { db in
            try db.execute(sql: """
                CREATE TABLE extensions (
                    number TEXT PRIMARY KEY NOT NULL,
                    user_name TEXT NOT NULL DEFAULT '',
                    billing_enabled INTEGER NOT NULL DEFAULT 0,
                    payment_type TEXT NOT NULL DEFAULT 'prepaid',
                    status TEXT NOT NULL DEFAULT 'unlocked',
                    balance INTEGER NOT NULL DEFAULT 0,
                    credit INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0),
                    total_recharges INTEGER NOT NULL DEFAULT 0,
                    checkpoint_at INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE rates (
                    id INTEGER PRIMARY KEY NOT NULL,
                    active INTEGER NOT NULL,
                    remarks TEXT NOT NULL DEFAULT '',
                    prefix TEXT NOT NULL,
                    number_length INTEGER NOT NULL,
                    initial_cost INTEGER NOT NULL,
                    initial_time INTEGER NOT NULL,
                    rate INTEGER NOT NULL,
                    unit INTEGER NOT NULL CHECK (unit >= 1),
                    start_second INTEGER NOT NULL,
                    end_second INTEGER NOT NULL
                );
                CREATE TABLE rate_extensions (
                    rate_id INTEGER NOT NULL REFERENCES rates(id) ON DELETE CASCADE,
                    extension_number TEXT NOT NULL,
                    PRIMARY KEY (rate_id, extension_number)
                ) WITHOUT ROWID;
                CREATE TABLE recharges (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    extension_number TEXT NOT NULL REFERENCES extensions(number),
                    user_name TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    amount INTEGER NOT NULL,
                    balance_before INTEGER NOT NULL,
                    balance_after INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    operator TEXT NOT NULL,
                    note TEXT NOT NULL,
                    idempotency_key TEXT UNIQUE
                );
                CREATE INDEX recharges_by_time ON recharges(at);
                CREATE TABLE calls (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    call_id TEXT NOT NULL,
                    extension_number TEXT NOT NULL REFERENCES extensions(number),
                    user_name TEXT NOT NULL,
                    dialled TEXT NOT NULL,
                    rate_id INTEGER,
                    rate_prefix TEXT,
                    initial_cost INTEGER,
                    initial_time INTEGER,
                    rate INTEGER,
                    unit INTEGER,
                    authorized_at INTEGER NOT NULL,
                    answered_at INTEGER,
                    ended_at INTEGER NOT NULL,
                    billable_ms INTEGER NOT NULL,
                    cost INTEGER NOT NULL,
                    charged INTEGER NOT NULL,
                    result TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    balance_after INTEGER NOT NULL
                );
                CREATE INDEX calls_by_time ON calls(authorized_at);
                CREATE TABLE ledger (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    extension_number TEXT NOT NULL REFERENCES extensions(number),
                    kind TEXT NOT NULL,
                    amount INTEGER NOT NULL,
                    balance_before INTEGER NOT NULL,
                    balance_after INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    call_id TEXT
                );
                CREATE TABLE live_calls (
                    call_id TEXT PRIMARY KEY NOT NULL,
                    extension_number TEXT NOT NULL REFERENCES extensions(number),
                    dialled TEXT NOT NULL,
                    rate_id INTEGER,
                    rate_prefix TEXT,
                    initial_cost INTEGER,
                    initial_time INTEGER,
                    rate INTEGER,
                    unit INTEGER,
                    unbilled_reason TEXT,
                    authorized_at INTEGER NOT NULL,
                    answered_at INTEGER,
                    charges_made INTEGER NOT NULL,
                    charged INTEGER NOT NULL,
                    cut_at INTEGER
                );
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-admin-users") { db in
            // Billing users and the PBX administrator. Kept in the billing database: a reset of billing data
            // removes billing users, while the license lives in its own file and survives.
            try db.execute(sql: """
                CREATE TABLE users (
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'billing')),
                    password_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    password_changed_at INTEGER NOT NULL
                );
                CREATE INDEX calls_by_extension_time ON calls(extension_number, authorized_at);
                """)
        }
        migrator.registerMigration("v3-call-log-rowids") { db in
            // AUTOINCREMENT made every settlement also update sqlite_sequence twice (call log and ledger): a
            // tenth of the settlement's writes. These tables are append-only, so plain rowids never reuse an id.
            try db.execute(sql: """
                CREATE TABLE calls_v3 (
                    id INTEGER PRIMARY KEY,
                    call_id TEXT NOT NULL,
                    extension_number TEXT NOT NULL REFERENCES extensions(number),
                    user_name TEXT NOT NULL,
                    dialled TEXT NOT NULL,
                    rate_id INTEGER,
                    rate_prefix TEXT,
                    initial_cost INTEGER,
                    initial_time INTEGER,
                    rate INTEGER,
                    unit INTEGER,
                    authorized_at INTEGER NOT NULL,
                    answered_at INTEGER,
                    ended_at INTEGER NOT NULL,
                    billable_ms INTEGER NOT NULL,
                    cost INTEGER NOT NULL,
                    charged INTEGER NOT NULL,
                    result TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    balance_after INTEGER NOT NULL
                );
                INSERT INTO calls_v3 SELECT * FROM calls;
                DROP TABLE calls;
                ALTER TABLE calls_v3 RENAME TO calls;
                CREATE INDEX calls_by_time ON calls(authorized_at);
                CREATE INDEX calls_by_extension_time ON calls(extension_number, authorized_at);
                CREATE TABLE ledger_v3 (
                    id INTEGER PRIMARY KEY,
                    extension_number TEXT NOT NULL REFERENCES extensions(number),
                    kind TEXT NOT NULL,
                    amount INTEGER NOT NULL,
                    balance_before INTEGER NOT NULL,
                    balance_after INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    call_id TEXT
                );
                INSERT INTO ledger_v3 SELECT * FROM ledger;
                DROP TABLE ledger;
                ALTER TABLE ledger_v3 RENAME TO ledger;
                """)
        }
        migrator.registerMigration("v4-derived-charges") { db in
            // Paid charges are no longer checkpointed one by one: recovery re-derives them from each call's last
            // checkpoint up to `metered_through`, the last instant the engine was known metering. A restored
            // call keeps the instant it was last known live while no PBX claims it, and a call whose
            // extension's billing was switched off keeps when that happened: both must survive a second restart.
            try db.execute(sql: """
                ALTER TABLE live_calls ADD COLUMN billing_stopped_at INTEGER;
                ALTER TABLE live_calls ADD COLUMN suspended_at INTEGER;
                CREATE TABLE engine_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    metered_through INTEGER NOT NULL
                );
                INSERT INTO engine_state (id, metered_through)
                    SELECT 1, COALESCE(MAX(checkpoint_at), 0) FROM extensions;
                """)
        }
        migrator.registerMigration("v5-call-log-index-apart") { db in
            // The call log's per-extension index moves to a file of its own, kept behind the log
            // (``CallLogIndex``): as an index here it cost a random page per call, written at every commit. The
            // ledger's id tells that file which ledger it was built from.
            try db.execute(sql: """
                DROP INDEX calls_by_extension_time;
                ALTER TABLE engine_state ADD COLUMN ledger_id TEXT NOT NULL DEFAULT '';
                UPDATE engine_state SET ledger_id = lower(hex(randomblob(16)));
                """)
        }
        migrator.registerMigration("v6-sessions") { db in
            // Console and API sessions survive a restart of `serve`. Only a digest of each token is kept, so the
            // file does not hand out sessions; a user's sessions go with the user.
            try db.execute(sql: """
                CREATE TABLE sessions (
                    token_digest TEXT PRIMARY KEY NOT NULL,
                    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'billing')),
                    csrf_token TEXT NOT NULL,
                    expires_at INTEGER NOT NULL
                );
                CREATE INDEX sessions_by_user ON sessions(user);
                """)
        }
        return migrator
    }
}
