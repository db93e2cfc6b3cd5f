import GRDB
import Journal
import Logging
import Synchronization

/// The persistence actor: the one writer of the database. It group-commits: while one transaction is being
/// written, what the engine queues meanwhile gathers into the next, so the batch grows with the load and an
/// idle ledger commits a lone entry at once.
actor LedgerWriter {
    /// Figures for metrics and benchmarks.
    struct Stats: Sendable {
        var batches: Int64 = 0
        var entries: Int64 = 0
        var checkpoints: Int64 = 0
        var commitMicrosTotal: Int64 = 0
        /// The nice value of the thread that committed the last batch (see ``CommitPriority``).
        var commitNice: Int32?
    }

    private let pool: DatabasePool
    private let queue: JournalQueue
    private let logger: Logger
    /// Updated by each commit before its waiters are woken, so whoever was acknowledged sees it counted.
    private let statsBox = Mutex(Stats())
    /// Why the writer stopped, once a commit failed (a full disk, an I/O error); nothing is written after it.
    private(set) var failure: LedgerError?
    private let checkpointLimit: Int
    private let priority: CommitPriority
    private let indexer: CallLogIndexer
    private var busy = false
    private var idle: [CheckedContinuation<Void, Never>] = []

    nonisolated var stats: Stats { statsBox.withLock { $0 } }

    /// `indexer` is told of the calls each commit logs.
    init(pool: DatabasePool, queue: JournalQueue, checkpointLimit: Int, indexer: CallLogIndexer,
         priority: CommitPriority, logger: Logger) {
        self.pool = pool
        self.indexer = indexer
        self.priority = priority
        self.queue = queue
        self.checkpointLimit = checkpointLimit
        self.logger = logger
    }

    /// Commits whatever is queued until the queue is finished.
    func run() async {
        for await _ in queue.wakeups {
            do { try await flush(meteredNow: false) } catch { return }
        }
        try? await flush()
    }

    /// Commits everything queued now, batch by batch; with `meteredNow`, also the latest metered instant
    /// however recent the last one written.
    func flush(meteredNow: Bool = true) async throws {
        // One flush at a time: the run loop's flush suspends while its batch commits, and a second flush that
        // found the queue empty meanwhile must not return before that batch is durable.
        while busy {
            await withCheckedContinuation { idle.append($0) }
        }
        busy = true
        defer {
            busy = false
            if !idle.isEmpty { idle.removeFirst().resume() }
        }
        guard failure == nil else { throw LedgerError.writerFailed }
        // Only the first batch forces it: while calls tick it moves every millisecond, and a flush must end.
        var takeMetered = meteredNow
        while true {
            let batches: Int
            do {
                batches = try await commitRound(meteredNow: takeMetered)
            } catch {
                failure = .writeFailed("\(error)")
                logger.critical("ledger write failed; nothing further is acknowledged", metadata: .fields([
                    .error: "\(error)",
                ]))
                queue.fail(LedgerError.writerFailed)
                throw error
            }
            takeMetered = false
            if batches < Self.batchesPerRound { return }
        }
    }

    /// Batches committed one after another on the writer's thread before other writers of the database get
    /// their turn (user changes from the admin surface).
    static let batchesPerRound = 16

    /// Commits queued batches one after another without leaving the writer's thread, until the queue is empty
    /// or ``batchesPerRound`` are done. Under load a batch follows the last at once: coming back to this actor
    /// between batches waited for a turn of Swift's pool behind the requests, and the requests' settlements
    /// meanwhile waited for that commit.
    private func commitRound(meteredNow: Bool) async throws -> Int {
        let (queue, priority, checkpointLimit, indexer) = (self.queue, self.priority, self.checkpointLimit, self.indexer)
        return try await pool.writeWithoutTransaction { [self] db in
            // A round runs on one thread: lowering it once covers every batch of the round.
            let nice = priority.applyToCurrentThread()
            var batches = 0
            var takeMetered = meteredNow
            while batches < Self.batchesPerRound,
                  let batch = queue.drain(checkpointLimit: checkpointLimit, meteredNow: takeMetered)
            {
                takeMetered = false
                let started = ContinuousClock.now
                var calls = 0
                try db.inTransaction {
                    calls = try BatchWriter.apply(batch, to: db)
                    return .commit
                }
                let micros = Self.micros(since: started)
                self.statsBox.withLock { stats in
                    stats.batches += 1
                    stats.entries += Int64(batch.entries.count)
                    stats.checkpoints += Int64(batch.checkpoints.count)
                    stats.commitMicrosTotal += micros
                    stats.commitNice = nice
                }
                batches += 1
                // Before the waiters wake, so that whoever was acknowledged finds the calls counted.
                indexer.logged(calls)
                queue.committed(through: batch.lastSequence)
            }
            return batches
        }
    }

    private static func micros(since start: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

/// Ledger failures.
public enum LedgerError: Error, Sendable, CustomStringConvertible {
    case writerFailed
    /// A commit failed: the writer stopped, and nothing after the last commit was acknowledged.
    case writeFailed(String)
    case corrupt(String)
    case sqlite(code: Int32, message: String)

    public var description: String {
        switch self {
        case .writerFailed: "the ledger could not write; changes are not being acknowledged"
        case .writeFailed(let detail):
            "the ledger could not write (\(detail)); stopped: nothing after its last commit was acknowledged"
        case .corrupt(let detail): "ledger data is not valid: \(detail)"
        case .sqlite(let code, let message): "SQLite error \(code): \(message)"
        }
    }
}
