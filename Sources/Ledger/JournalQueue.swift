import Metering
import Synchronization

/// The hand-over between the engine and the ledger writer: ordered entries, the latest checkpoint per
/// extension, and who waits for which commit. Appending never blocks or suspends.
final class JournalQueue: Sendable {
    /// What one drain hands the writer: a consistent cut of everything queued.
    struct Batch: Sendable {
        var entries: [JournalEntry]
        var checkpoints: [AccountCheckpoint]
        /// The sequence number of the last entry in `entries` (or the last committed, when none).
        var lastSequence: UInt64
    }

    fileprivate struct State {
        var entries: [JournalEntry] = []
        var checkpoints: [String: AccountCheckpoint] = [:]
        var nextSequence: UInt64 = 1
        var committed: UInt64 = 0
        var waiters: [(UInt64, CheckedContinuation<Void, any Error>)] = []
        var failure: (any Error)?
        /// Whether the writer was signalled since the last drain: one wake-up per batch is enough.
        var signalled = false
    }

    private let state = Mutex(State())
    private let signal: AsyncStream<Void>.Continuation
    /// Yields when something was queued; the writer waits on it when idle.
    let wakeups: AsyncStream<Void>

    init() {
        (wakeups, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 {
        let (sequence, wake) = state.withLock { state -> (UInt64, Bool) in
            state.entries.append(entry)
            if let checkpoint { state.checkpoints[checkpoint.extensionNumber] = checkpoint }
            defer { state.nextSequence += 1 }
            return (state.nextSequence, state.markSignalled())
        }
        if wake { signal.yield() }
        return sequence
    }

    func checkpoint(_ checkpoint: AccountCheckpoint) {
        let wake = state.withLock { state -> Bool in
            state.checkpoints[checkpoint.extensionNumber] = checkpoint
            return state.markSignalled()
        }
        if wake { signal.yield() }
    }

    /// Takes everything queued, entries and checkpoints together, so the two stay consistent.
    func drain() -> Batch? {
        state.withLock { state in
            guard !state.entries.isEmpty || !state.checkpoints.isEmpty else { return nil }
            let batch = Batch(entries: state.entries, checkpoints: Array(state.checkpoints.values),
                              lastSequence: state.nextSequence - 1)
            state.entries.removeAll(keepingCapacity: true)
            state.checkpoints.removeAll(keepingCapacity: true)
            state.signalled = false
            return batch
        }
    }

    var pendingCount: Int { state.withLock { $0.entries.count + $0.checkpoints.count } }

    /// Marks everything up to `sequence` committed and wakes its waiters.
    func committed(through sequence: UInt64) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.committed = max(state.committed, sequence)
            let ready = state.waiters.filter { $0.0 <= state.committed }.map(\.1)
            state.waiters.removeAll { $0.0 <= state.committed }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    /// The store failed: nothing more will be acknowledged.
    func fail(_ error: any Error) {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.failure = error
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.1)
        }
        for waiter in waiting { waiter.resume(throwing: error) }
    }

    func waitCommitted(_ sequence: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state -> Result<Bool, any Error> in
                if let failure = state.failure { return .failure(failure) }
                if state.committed >= sequence { return .success(true) }
                state.waiters.append((sequence, continuation))
                return .success(false)
            }
            switch outcome {
            case .success(true): continuation.resume()
            case .success(false): break
            case .failure(let error): continuation.resume(throwing: error)
            }
        }
    }

    func finish() { signal.finish() }
}

extension JournalQueue.State {
    /// True the first time something is queued after a drain.
    fileprivate mutating func markSignalled() -> Bool {
        defer { signalled = true }
        return !signalled
    }
}
