import Dispatch
import Journal
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
        /// The latest instant the engine reported metering, when later than the one last drained.
        var meteredThrough: Int64?
        /// Settled calls whose `live_calls` row is stored: deleted with this batch's entries. A call settled
        /// before any checkpoint carrying it was drained (a short unanswered call, typically) never had one.
        var liveRowsToDelete: [String] = []
    }

    /// How far `metered_through` may lag before it is worth a transaction of its own: recovery bills a call
    /// no PBX claims back no further than this short of the instant it was last known live. Otherwise it
    /// rides along with the batches the load makes anyway.
    static let meteredWriteInterval: Int64 = 250

    /// Whether `instant` is worth a write of its own after `last` (`Int64.min`: nothing written yet).
    private static func meteredWriteDue(_ instant: Int64, after last: Int64) -> Bool {
        last == .min || instant.subtractingReportingOverflow(last).partialValue >= meteredWriteInterval
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
        /// The latest `metered(through:)` instant handed to the writer.
        var meteredDrained: Int64 = .min
        /// Calls whose `live_calls` row is stored or in a batch handed to the writer: loaded at start, added
        /// when a checkpoint carrying the call is drained, removed when its settlement is. A call id not here
        /// has no row, so its settlement needs no delete (one statement less for most unanswered calls).
        var storedLiveCalls: Set<String> = []
    }

    private let state = Mutex(State())
    /// The latest instant reported by `metered(through:)`; an atomic because every wake-up of every extension
    /// reports, and a lock there would be taken a million times a second at a million live calls.
    private let meteredThrough = Atomic<Int64>(.min)
    /// The instant that last woke the writer on its own account.
    private let meteredSignalled = Atomic<Int64>(.min)
    /// Signalled when something is queued after a drain found nothing (once per batch), and by the writer's own
    /// requests (a flush, a stop); the writer's thread blocks on it when idle.
    private let wake = DispatchSemaphore(value: 0)

    init() {}

    /// Blocks the writer's thread until something was queued or the writer was asked for something.
    func waitForWork() { wake.wait() }

    /// Wakes the writer's thread (a flush or a stop asked of it).
    func wakeWriter() { wake.signal() }

    /// The calls with a row in `live_calls` when the ledger opened.
    func storedLiveCalls(_ callIDs: some Sequence<String>) {
        state.withLock { $0.storedLiveCalls.formUnion(callIDs) }
    }

    func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 {
        let (sequence, first) = state.withLock { state -> (UInt64, Bool) in
            state.entries.append(entry)
            if let checkpoint { state.put(checkpoint, ended: entry.settledCallID) }
            defer { state.nextSequence += 1 }
            return (state.nextSequence, state.markSignalled())
        }
        if first { wake.signal() }
        return sequence
    }

    func checkpoint(_ checkpoint: AccountCheckpoint) {
        let first = state.withLock { state -> Bool in
            state.put(checkpoint)
            return state.markSignalled()
        }
        if first { wake.signal() }
    }

    func metered(through instant: Int64) {
        var seen = meteredThrough.load(ordering: .relaxed)
        while instant > seen {
            let (exchanged, original) = meteredThrough.compareExchange(
                expected: seen, desired: instant, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        let signalled = meteredSignalled.load(ordering: .relaxed)
        guard Self.meteredWriteDue(instant, after: signalled) else { return }
        guard meteredSignalled.compareExchange(expected: signalled, desired: instant, ordering: .relaxed).exchanged
        else { return }
        let first = state.withLock { $0.markSignalled() }
        if first { wake.signal() }
    }

    /// Takes every queued entry and, with them, the checkpoints of the extensions they touch, plus at most
    /// `checkpointLimit` other checkpoints (first dirtied first). An extension's balance and live holds are
    /// thus always committed together with its ledger rows, and a batch stays small enough that the entries
    /// in it are acknowledged quickly however many calls are live; the remaining checkpoints go in the next
    /// batch, coalescing meanwhile.
    /// With `meteredNow`, the latest metered instant is taken however little it moved (a flush or a shutdown).
    func drain(checkpointLimit: Int = 20_000, meteredNow: Bool = false) -> Batch? {
        state.withLock { state in
            // Read under the lock: whatever the engine reported before it queued anything in this batch is in it.
            let metered = meteredThrough.load(ordering: .relaxed)
            let meteredNews = metered > state.meteredDrained ? metered : nil
            let meteredDue = meteredNews.map { meteredNow || Self.meteredWriteDue($0, after: state.meteredDrained) }
                ?? false
            guard !state.entries.isEmpty || !state.checkpoints.isEmpty || meteredDue else {
                // The writer goes back to waiting: the next append must wake it.
                state.signalled = false
                return nil
            }
            var checkpoints: [AccountCheckpoint] = []
            var liveRowsToDelete: [String] = []
            for entry in state.entries {
                if let callID = entry.settledCallID, state.storedLiveCalls.remove(callID) != nil {
                    liveRowsToDelete.append(callID)
                }
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
            // A call settled in this batch is in none of its checkpoints: its settlement's checkpoint replaced
            // any pending one of its extension and dropped the call (`AccountCheckpoint.absorb`).
            for checkpoint in checkpoints {
                for call in checkpoint.calls { state.storedLiveCalls.insert(call.callID) }
            }
            let batch = Batch(entries: state.entries, checkpoints: checkpoints, lastSequence: state.nextSequence - 1,
                              meteredThrough: meteredNews, liveRowsToDelete: liveRowsToDelete)
            if let meteredNews { state.meteredDrained = meteredNews }
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

    func isResolved(_ sequence: UInt64) -> Bool {
        state.withLock { $0.failure != nil || $0.committed >= sequence }
    }

    func waitCommitted(_ sequence: UInt64) async throws {
        // Most replies are written after their commit: no continuation (an allocation and a suspension) then.
        let done = try state.withLock { state -> Bool in
            if let failure = state.failure { throw failure }
            return state.committed >= sequence
        }
        if done { return }
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
}

extension JournalQueue.State {
    /// Replaces the extension's pending checkpoint, keeping what the replaced one still had to store (see
    /// ``AccountCheckpoint/absorb(_:ended:)``); a newly dirty extension joins the end of the line.
    fileprivate mutating func put(_ checkpoint: AccountCheckpoint, ended: String? = nil) {
        // One hash of the number when a checkpoint is pending: this runs for every change of every extension.
        if let index = checkpoints.index(forKey: checkpoint.extensionNumber) {
            var merged = checkpoint
            merged.absorb(checkpoints.values[index], ended: ended)
            checkpoints.values[index] = merged
        } else {
            checkpoints[checkpoint.extensionNumber] = checkpoint
            dirtyOrder.append(checkpoint.extensionNumber)
        }
    }

    /// True the first time something is queued after a drain.
    fileprivate mutating func markSignalled() -> Bool {
        defer { signalled = true }
        return !signalled
    }
}
