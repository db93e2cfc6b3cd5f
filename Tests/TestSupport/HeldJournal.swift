import BillingCore
public import Journal
import Metering
import Synchronization

/// An in-memory journal whose commits can be held: while held, `waitCommitted` suspends until ``release()``,
/// as a slow disk would. Tests use it to see what happens before a settlement is durable.
public final class HeldJournal: BillingJournal {
    public let memory = MemoryJournal()
    private struct State {
        var held = false
        var waiting: [CheckedContinuation<Void, any Error>] = []
        var failure: (any Error)?
    }
    private let state = Mutex(State())

    public init() {}

    /// Commits wait from now on until ``release()``.
    public func hold() { state.withLock { $0.held = true } }

    /// How many commit waits are suspended.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Lets every held and later commit through.
    public func release() {
        let waiting = state.withLock { state in
            state.held = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Fails every held and later commit with `error`, as a ledger that can no longer write.
    public func fail(_ error: any Error) {
        let waiting = state.withLock { state in
            state.held = false
            state.failure = error
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume(throwing: error) }
    }

    public func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 {
        memory.append(entry, checkpoint: checkpoint)
    }

    public func checkpoint(_ checkpoint: AccountCheckpoint) { memory.checkpoint(checkpoint) }

    public func metered(through instant: Int64) { memory.metered(through: instant) }

    public func isResolved(_ sequence: UInt64) -> Bool { state.withLock { !$0.held } }

    public func waitCommitted(_ sequence: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let (held, failure) = state.withLock { state in
                if state.held { state.waiting.append(continuation) }
                return (state.held, state.failure)
            }
            if let failure { continuation.resume(throwing: failure) } else if !held { continuation.resume() }
        }
    }

    public func recharge(idempotencyKey: String) async throws -> RechargeRecord? {
        try await memory.recharge(idempotencyKey: idempotencyKey)
    }
}
