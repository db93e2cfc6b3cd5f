import Foundation
import GRDB
import Journal
import Logging
import Synchronization

/// The one writer of the database, on a thread of its own whose priority is lowered once, when it starts
/// (``CommitPriority``). It group-commits: while one transaction is being written, what the engine queues
/// meanwhile gathers into the next, so the batch grows with the load and an idle ledger commits a lone entry at
/// once.
///
/// A thread rather than an actor on GRDB's queue: the engine's hand-over wakes it directly (one semaphore), its
/// commits run on it (GRDB's synchronous write runs on the calling thread), and its waiters are woken from it,
/// with no turn of Swift's pool or libdispatch's in between; and a nice value belongs to a Linux thread, so a
/// writer that landed on whichever worker libdispatch chose had to lower each one it found itself on.
final class LedgerWriter: Sendable {
    /// Figures for metrics and benchmarks.
    struct Stats: Sendable {
        var batches: Int64 = 0
        var entries: Int64 = 0
        var checkpoints: Int64 = 0
        var commitMicrosTotal: Int64 = 0
        /// The nice value of the thread that committed the last batch (see ``CommitPriority``).
        var commitNice: Int32?
    }

    private struct State {
        var stats = Stats()
        /// Why the writer stopped committing, once a commit failed (a full disk, an I/O error).
        var failure: LedgerError?
        /// Flushes waiting for everything queued before them to be committed.
        var flushes: [CheckedContinuation<Void, any Error>] = []
        /// Set by ``close()``: ``run()`` returns (the thread still commits whatever comes, until ``stop()``).
        var closed = false
        var running: [CheckedContinuation<Void, Never>] = []
        var stopping = false
    }

    private let pool: DatabasePool
    private let queue: JournalQueue
    private let logger: Logger
    private let checkpointLimit: Int
    private let priority: CommitPriority
    private let indexer: CallLogIndexer
    /// Updated by each commit before its waiters are woken, so whoever was acknowledged sees it counted.
    private let state = Mutex(State())
    /// Each commit's duration, µs (for `/metrics`).
    let commitLatency = LatencyHistogram()
    private let stopped = DispatchSemaphore(value: 0)

    var stats: Stats { state.withLock { $0.stats } }

    /// Why the writer stopped, once a commit failed; nothing is acknowledged after it.
    var failure: LedgerError? { state.withLock { $0.failure } }

    /// Starts the writer's thread. `indexer` is told of the calls each commit logs.
    init(pool: DatabasePool, queue: JournalQueue, checkpointLimit: Int, indexer: CallLogIndexer,
         priority: CommitPriority, logger: Logger) {
        self.pool = pool
        self.indexer = indexer
        self.priority = priority
        self.queue = queue
        self.checkpointLimit = checkpointLimit
        self.logger = logger
        Thread { [self] in commitUntilStopped() }.start()
    }

    /// Returns once the ledger is closed (``close()``) or a commit failed (``failure``).
    func run() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.closed || state.failure != nil { return true }
                state.running.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Commits everything queued before it, with the latest metered instant however recent the last one written;
    /// throws once a commit failed.
    func flush() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let failed = state.withLock { state -> Bool in
                if state.failure != nil { return true }
                state.flushes.append(continuation)
                return false
            }
            if failed { continuation.resume(throwing: LedgerError.writerFailed) } else { queue.wakeWriter() }
        }
    }

    /// Ends ``run()``; what is queued later is still committed until ``stop()``.
    func close() {
        let running = state.withLock { state in
            state.closed = true
            defer { state.running = [] }
            return state.running
        }
        for waiter in running { waiter.resume() }
    }

    /// Commits what is queued, then ends the thread (the ledger is going away).
    func stop() {
        let first = state.withLock { state in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else { return }
        queue.wakeWriter()
        stopped.wait()
    }

    /// Batches committed one after another inside one write before other writers of the database (user changes
    /// from the admin surface) get their turn.
    static let batchesPerRound = 16

    /// The writer's thread: waits for work, commits everything queued, wakes the flushes that were waiting
    /// before it began.
    private func commitUntilStopped() {
        // Named here: a thread's name is set from within it on Linux (it would otherwise show its creator's).
        Thread.current.name = "tollgate-ledger"
        // This thread only ever commits: lowering it once is enough.
        let nice = priority.applyToCurrentThread()
        while true {
            queue.waitForWork()
            let (flushes, stopping, failed) = state.withLock { state in
                defer { state.flushes = [] }
                return (state.flushes, state.stopping, state.failure != nil)
            }
            if !failed {
                do {
                    try commitQueued(meteredNow: !flushes.isEmpty || stopping, nice: nice)
                } catch {
                    fail(error)
                }
            }
            let failure = self.failure
            for flush in flushes {
                if failure != nil { flush.resume(throwing: LedgerError.writerFailed) } else { flush.resume() }
            }
            if stopping { break }
        }
        stopped.signal()
    }

    /// Commits queued batches until the queue is empty, ``batchesPerRound`` to a write.
    private func commitQueued(meteredNow: Bool, nice: Int32) throws {
        // Only the first batch forces the metered instant: while calls tick it moves every millisecond.
        var takeMetered = meteredNow
        var batches = Self.batchesPerRound
        while batches == Self.batchesPerRound {
            batches = try pool.writeWithoutTransaction { db in
                var batches = 0
                while batches < Self.batchesPerRound,
                      let batch = queue.drain(checkpointLimit: checkpointLimit, meteredNow: takeMetered)
                {
                    takeMetered = false
                    try commit(batch, in: db, nice: nice)
                    batches += 1
                }
                return batches
            }
        }
    }

    /// Commits one batch in one transaction, then wakes what waited for it.
    private func commit(_ batch: JournalQueue.Batch, in db: Database, nice: Int32) throws {
        let started = ContinuousClock.now
        var calls = 0
        try db.inTransaction {
            calls = try BatchWriter.apply(batch, to: db)
            return .commit
        }
        let micros = Self.micros(since: started)
        commitLatency.record(micros: micros)
        state.withLock { state in
            state.stats.batches += 1
            state.stats.entries += Int64(batch.entries.count)
            state.stats.checkpoints += Int64(batch.checkpoints.count)
            state.stats.commitMicrosTotal += micros
            state.stats.commitNice = nice
        }
        // Before the waiters wake, so that whoever was acknowledged finds the calls counted.
        indexer.logged(calls)
        queue.committed(through: batch.lastSequence)
    }

    /// A commit failed: nothing further is committed or acknowledged, and ``run()`` returns.
    private func fail(_ error: any Error) {
        logger.critical("ledger write failed; nothing further is acknowledged", metadata: .fields([
            .error: "\(error)",
        ]))
        let running = state.withLock { state in
            state.failure = .writeFailed("\(error)")
            defer { state.running = [] }
            return state.running
        }
        queue.fail(LedgerError.writerFailed)
        for waiter in running { waiter.resume() }
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
