import Foundation
import GRDB
import Journal
import Logging
import Synchronization

/// Keeps the call log's per-extension index (``CallLogIndex``) on a thread of its own, at a lower priority than
/// the ledger's writer: the writer reports the calls it logs, and once ``step`` of them wait, the indexer adds
/// them in one sorted transaction. Behind under load, it takes larger steps (up to four at once), which write
/// each extension's page for more calls; a search scans whatever it has not reached. A step that fails (a full
/// disk, or another process indexing the same file at that moment) is tried again after another step's worth.
final class CallLogIndexer: Sendable {
    /// Figures for metrics and tests.
    struct Stats: Sendable {
        var steps: Int64 = 0
        var failures: Int64 = 0
        var calls: Int64 = 0
        var micros: Int64 = 0
    }

    private struct State {
        var unindexed = 0
        var stopping = false
        /// Whether the thread is taking steps (or about to): set when it finds a step due, cleared when not.
        var indexing = false
        var caughtUpWaiters: [CheckedContinuation<Void, Never>] = []
        var stats = Stats()
        /// After a failed step, how many calls must wait before the next try: another step's worth, so that a
        /// lasting failure (a full disk) is tried and logged once a step, not in a loop. Searches find every
        /// call meanwhile, by scanning.
        var retryAt = 0

        /// Calls that must wait before the next step.
        func threshold(step: Int) -> Int { max(step, retryAt) }
    }

    let path: String
    private let ledgerPath: String
    let step: Int
    private let database: DatabaseQueue
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let priority: CommitPriority
    private let logger: Logger

    /// Opens (creating, or rebuilding when unreadable or of another version) the index beside the ledger at
    /// `ledgerPath`. Nothing is read from the ledger until ``start()``, after the ledger's migrations.
    init(ledgerPath: String, step: Int, priority: CommitPriority, logger: Logger) throws {
        path = CallLogIndex.path(ledgerPath: ledgerPath)
        self.ledgerPath = ledgerPath
        self.step = step
        self.priority = priority
        self.logger = logger
        do {
            database = try Self.open(path: path)
        } catch where Self.isUnusable(error) {
            // Derived data: a damaged file is replaced by one built from the log. Any other failure (a lock held
            // too long by another process) is reported: that file may be in use.
            logger.warning("rebuilding the call log's per-extension index", metadata: .fields([.error: "\(error)"]))
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            database = try Self.open(path: path)
        }
    }

    /// Whether `error` says the file itself is damaged or not a database (or cannot take a write-ahead log).
    private static func isUnusable(_ error: any Error) -> Bool {
        if let error = error as? DatabaseError { return [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) }
        return error is LedgerError
    }

    private static func open(path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        // The last connection to close checkpoints under an exclusive lock: a ledger reopened meanwhile waits.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // Rebuilt from the log after a power cut if need be: no reason to wait for the disk.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try database.writeWithoutTransaction { db in
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")?.lowercased() == "wal" else {
                throw LedgerError.corrupt("the call log's index could not use a write-ahead log")
            }
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            if version != CallLogIndex.version {
                try db.execute(sql: "DROP TABLE IF EXISTS calls_by_extension; DROP TABLE IF EXISTS state")
                try db.execute(sql: "PRAGMA user_version = \(CallLogIndex.version)")
            }
            try CallLogIndex.create(db)
        }
        return database
    }

    /// Checks the index against the ledger (emptying it if it was built from another), counts the calls it
    /// lacks and starts the indexing thread.
    func start() throws {
        let unindexed = try database.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS ledger", arguments: [ledgerPath])
            try CallLogIndex.adopt(db, ledger: "ledger")
            return try CallLogIndex.unindexed(db, ledger: "ledger")
        }
        state.withLock { state in
            state.unindexed = unindexed
            state.indexing = unindexed >= step
        }
        Thread { [self] in run() }.start()
        if unindexed >= step { wake.signal() }
    }

    /// `count` more calls were committed to the log.
    func logged(_ count: Int) {
        guard count > 0 else { return }
        let due = state.withLock { state in
            state.unindexed += count
            // Marked at once, so that a wait for the index to catch up includes this step.
            guard state.unindexed >= state.threshold(step: step), !state.indexing else { return false }
            state.indexing = true
            return true
        }
        if due { wake.signal() }
    }

    var stats: Stats { state.withLock { $0.stats } }

    /// Adds every call logged so far to the index now, on the caller's thread (tests and tools).
    func indexAll() throws {
        while try indexStep() > 0 {}
    }

    /// Stops the thread after the step it is taking, if any, and closes the index's connection (the ledger's
    /// readers keep reading it).
    func stop() {
        let wasRunning = state.withLock { state in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard wasRunning else { return }
        wake.signal()
        stopped.wait()
        do {
            try database.close()
        } catch {
            logger.warning("the call log's index did not close", metadata: .fields([.error: "\(error)"]))
        }
    }

    /// Returns once no step is due or being taken (or the indexer has stopped).
    func caughtUp() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                let done = state.stopping || (!state.indexing && state.unindexed < state.threshold(step: step))
                if !done { state.caughtUpWaiters.append(continuation) }
                return done
            }
            if now { continuation.resume() }
        }
    }

    private enum Next {
        case index
        case wait([CheckedContinuation<Void, Never>])
        case stop
    }

    private func run() {
        // Named here: a thread's name is set from within it on Linux (it would otherwise show its creator's).
        Thread.current.name = "tollgate-index"
        // This thread only ever indexes: lowering it once is enough.
        priority.applyToCurrentThread()
        running: while true {
            wake.wait()
            while true {
                let next = state.withLock { state -> Next in
                    if state.stopping { return .stop }
                    state.indexing = state.unindexed >= state.threshold(step: step)
                    if state.indexing { return .index }
                    defer { state.caughtUpWaiters = [] }
                    return .wait(state.caughtUpWaiters)
                }
                switch next {
                case .stop:
                    break running
                case .wait(let waiters):
                    for waiter in waiters { waiter.resume() }
                    continue running
                case .index:
                    do {
                        _ = try indexStep()
                    } catch {
                        let waiting = state.withLock { state in
                            state.stats.failures += 1
                            state.retryAt = state.unindexed + step
                            return state.unindexed
                        }
                        logger.error("the call log's per-extension index could not be extended; it is tried again after another step's worth of calls, and searches of one extension scan the calls it lacks meanwhile",
                                     metadata: .fields([.error: "\(error)", .waiting: "\(waiting)"]))
                    }
                }
            }
        }
        let waiters = state.withLock { state in
            state.indexing = false
            defer { state.caughtUpWaiters = [] }
            return state.caughtUpWaiters
        }
        for waiter in waiters { waiter.resume() }
        stopped.signal()
    }

    /// One transaction of at most four steps' worth of calls. Returns how many it added.
    private func indexStep() throws -> Int {
        let started = ContinuousClock.now
        let limit = step > Int.max / 4 ? Int.max : 4 * step
        let added = try database.writeWithoutTransaction { db in try CallLogIndex.extend(db, ledger: "ledger", limit: limit) }
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        state.withLock { state in
            // Nothing found after the watermark: whatever the count said, nothing waits.
            state.unindexed = added == 0 ? 0 : max(0, state.unindexed - added)
            state.retryAt = 0
            if added > 0 {
                state.stats.steps += 1
                state.stats.calls += Int64(added)
                state.stats.micros += seconds * 1_000_000 + attoseconds / 1_000_000_000_000
            }
        }
        return added
    }
}
