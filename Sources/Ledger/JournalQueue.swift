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
        /// Extensions with a pending checkpoint, first dirtied first, so none waits behind busier ones.
        var dirtyOrder: [String] = []
        var dirtyHead = 0
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
            if let checkpoint { state.put(checkpoint) }
            defer { state.nextSequence += 1 }
            return (state.nextSequence, state.markSignalled())
        }
        if wake { signal.yield() }
        return sequence
    }

    func checkpoint(_ checkpoint: AccountCheckpoint) {
        let wake = state.withLock { state -> Bool in
            state.put(checkpoint)
            return state.markSignalled()
        }
        if wake { signal.yield() }
    }

    /// Takes every queued entry and, with them, the checkpoints of the extensions they touch, plus at most
    /// `checkpointLimit` other checkpoints (first dirtied first). An extension's balance and live holds are
    /// thus always committed together with its ledger rows, and a batch stays small enough that the entries
    /// in it are acknowledged quickly however many calls are live; the remaining checkpoints go in the next
    /// batch, coalescing meanwhile.
    func drain(checkpointLimit: Int = 20_000) -> Batch? {
        state.withLock { state in
            guard !state.entries.isEmpty || !state.checkpoints.isEmpty else {
                // The writer goes back to waiting: the next append must wake it.
                state.signalled = false
                return nil
            }
            var checkpoints: [AccountCheckpoint] = []
            for entry in state.entries {
                if let number = entry.extensionNumber, let checkpoint = state.checkpoints.removeValue(forKey: number) {
                    checkpoints.append(checkpoint)
                }
            }
            while checkpoints.count < checkpointLimit + state.entries.count, state.dirtyHead < state.dirtyOrder.count {
                let number = state.dirtyOrder[state.dirtyHead]
                state.dirtyHead += 1
                if let checkpoint = state.checkpoints.removeValue(forKey: number) { checkpoints.append(checkpoint) }
            }
            if state.dirtyHead == state.dirtyOrder.count || state.checkpoints.isEmpty {
                state.dirtyOrder.removeAll(keepingCapacity: true)
                state.dirtyHead = 0
                // Checkpoints still pending (only possible when the order was reset above) keep their turn.
                state.dirtyOrder.append(contentsOf: state.checkpoints.keys)
            } else if state.dirtyHead > 65_536, state.dirtyHead * 2 > state.dirtyOrder.count {
                state.dirtyOrder.removeFirst(state.dirtyHead)
                state.dirtyHead = 0
            }
            let batch = Batch(entries: state.entries, checkpoints: checkpoints, lastSequence: state.nextSequence - 1)
            state.entries.removeAll(keepingCapacity: true)
            state.signalled = !state.checkpoints.isEmpty
            return batch
        }
    }


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
    /// Replaces the extension's pending checkpoint; a newly dirty extension joins the end of the line.
    fileprivate mutating func put(_ checkpoint: AccountCheckpoint) {
        if checkpoints.updateValue(checkpoint, forKey: checkpoint.extensionNumber) == nil {
            dirtyOrder.append(checkpoint.extensionNumber)
        }
    }

    /// True the first time something is queued after a drain.
    fileprivate mutating func markSignalled() -> Bool {
        defer { signalled = true }
        return !signalled
    }
}
