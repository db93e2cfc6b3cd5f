import BillingCore
import CSQLiteTuning
import Foundation
public import GRDB
import GRDBSQLite
public import Journal
public import Logging

/// The SQLite ledger: one `DatabasePool` in WAL mode with foreign keys on and `synchronous=FULL` (batching
/// makes FULL cost about what NORMAL does), whose journal is written only by its writer's thread (``LedgerWriter``).
public final class SQLiteLedger: BillingJournal {
    public let pool: DatabasePool
    let queue = JournalQueue()
    let writer: LedgerWriter
    let indexer: CallLogIndexer

    /// Opens (creating if needed) the database at `path` and applies pending migrations. A batch writes at most
    /// `checkpointsPerBatch` live-state checkpoints besides those of the extensions its entries touch. Batches
    /// commit `commitNiceSteps` nice steps below the caller's thread (``CommitPriority``; 0 keeps it level). The
    /// call log's per-extension index is extended once `callIndexStep` calls are waiting for it (``CallLogIndex``).
    public init(path: String, checkpointsPerBatch: Int = 20_000, commitNiceSteps: Int32 = 5,
                callIndexStep: Int = SQLiteLedger.defaultCallIndexStep,
                logger: Logger = Logger(label: "tollgate.ledger")) throws
    {
        if Self.sqliteTuned != SQLITE_OK {
            logger.debug("SQLite was in use before the ledger opened: its memory statistics stay on")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let priority = CommitPriority(steps: commitNiceSteps)
        // Below the commits, which settlements wait for; nothing waits for the index.
        let indexer = try CallLogIndexer(ledgerPath: path, step: min(max(1, callIndexStep), 1 << 40),
                                         priority: CommitPriority(steps: min(commitNiceSteps, 19) + 5), logger: logger)
        self.indexer = indexer
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // The last connection to close checkpoints under an exclusive lock: a ledger reopened meanwhile waits.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // Readers only: the writer's transactions are immediate, and would lock the index's file as well.
            if db.configuration.readonly {
                try db.execute(sql: "ATTACH DATABASE ? AS \(CallLogIndex.schema)", arguments: [indexer.path])
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // 64 MiB of page cache: group commits touch many pages of the call log and ledger at once.
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try LedgerSchema.migrator.migrate(pool)
        queue.storedLiveCalls(try pool.read { try String.fetchAll($0, sql: "SELECT call_id FROM live_calls") })
        try indexer.start()
        writer = LedgerWriter(pool: pool, queue: queue, checkpointLimit: max(1, checkpointsPerBatch),
                              indexer: indexer, priority: priority, logger: logger)
    }

    deinit {
        writer.stop()
        indexer.stop()
    }

    /// Calls waiting for the per-extension index before the writer extends it. Larger steps write each
    /// extension's index page for more calls at once; a search of one extension scans at most about this many
    /// recent calls besides its index.
    public static let defaultCallIndexStep = 131_072

    /// SQLite's process-wide settings, applied once before the first connection: memory statistics off, so that
    /// SQLite's allocations (several per row written) take no global mutex. Nothing here reads those statistics.
    /// Returns SQLite's result code (`SQLITE_MISUSE` when SQLite was initialized already, and it is then left as
    /// it is).
    @discardableResult
    public static func tuneSQLite() -> Int32 { sqliteTuned }

    private static let sqliteTuned: Int32 = tollgate_sqlite_disable_memory_statistics()

    /// The schema migrations this build would apply to the ledger at `path` when it opens it: empty for a new
    /// ledger or one already current. `serve` takes a backup first when this is not empty (an upgrade).
    public static func pendingMigrations(path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let reader = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? reader.close() }
        let applied = try reader.read { try LedgerSchema.migrator.appliedIdentifiers($0) }
        guard !applied.isEmpty else { return [] }
        return LedgerSchema.migrator.migrations.filter { !applied.contains($0) }
    }

    /// The database file in a data directory.
    public static func path(dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("tollgate.sqlite").path
    }

    // MARK: BillingJournal

    public func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 {
        queue.append(entry, checkpoint: checkpoint)
    }

    public func checkpoint(_ checkpoint: AccountCheckpoint) { queue.checkpoint(checkpoint) }

    public func metered(through instant: Int64) { queue.metered(through: instant) }

    public func waitCommitted(_ sequence: UInt64) async throws { try await queue.waitCommitted(sequence) }

    public func isResolved(_ sequence: UInt64) -> Bool { queue.isResolved(sequence) }

    public func recharge(idempotencyKey: String) async throws -> RechargeRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM recharges WHERE idempotency_key = ?",
                             arguments: [idempotencyKey]).map(LedgerRows.recharge)
        }
    }

    // MARK: Lifecycle

    /// Returns once the ledger is closed (``close()``) or a commit failed (``writeFailure``). The writer's thread
    /// runs from the ledger's opening; this is its lifetime as a service.
    public func run() async { await writer.run() }

    /// Set once a commit failed (a full disk, an I/O error): ``run()`` then returned, and nothing is
    /// acknowledged any more. A server must stop with it, so that a supervisor restarts it on what was committed.
    public var writeFailure: LedgerError? { get async { writer.failure } }

    /// Returns once everything queued before it is committed; throws once a commit failed.
    public func flush() async throws { try await writer.flush() }

    /// Commits what is queued, ends ``run()`` and stops the call log's indexer.
    public func close() async throws {
        defer {
            writer.close()
            indexer.stop()
        }
        try await flush()
    }

    /// Adds every call logged so far to the call log's per-extension index now (it otherwise waits for a
    /// step's worth of calls; searches find the calls either way).
    public func indexCallLog() throws { try indexer.indexAll() }

    /// Returns once the call log's indexer has taken every step due (or has stopped).
    public func callIndexCaughtUp() async { await indexer.caughtUp() }

    /// How long each commit took, µs.
    public var commitLatency: LatencyHistogram { writer.commitLatency }

    /// Writer figures: batches, entries, checkpoints, total commit time.
    public var writerStats: (batches: Int64, entries: Int64, checkpoints: Int64, commitMicros: Int64) {
        get async {
            let stats = writer.stats
            return (stats.batches, stats.entries, stats.checkpoints, stats.commitMicrosTotal)
        }
    }

    /// The per-extension index's figures: steps taken, calls added, total time, steps that failed.
    public var callIndexStats: (steps: Int64, calls: Int64, micros: Int64, failures: Int64) {
        let stats = indexer.stats
        return (stats.steps, stats.calls, stats.micros, stats.failures)
    }

    /// The nice value of the thread that committed the last batch; nil before the first.
    public var commitThreadNice: Int32? {
        get async { writer.stats.commitNice }
    }

}
