import BillingCore
public import Metering
import Synchronization

/// An in-memory journal whose commits can be held: while held, `waitCommitted` suspends until ``release()``,
/// as a slow disk would. Tests use it to see what happens before a settlement is durable.
public final class HeldJournal: BillingJournal {
    public let memory = MemoryJournal()
    private struct State {
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
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

    public func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 {
        memory.append(entry, checkpoint: checkpoint)
    }

    public func checkpoint(_ checkpoint: AccountCheckpoint) { memory.checkpoint(checkpoint) }

    public func metered(through instant: Int64) { memory.metered(through: instant) }

    public func isResolved(_ sequence: UInt64) -> Bool { state.withLock { !$0.held } }

    public func waitCommitted(_ sequence: UInt64) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let held = state.withLock { state in
                if state.held { state.waiting.append(continuation) }
                return state.held
            }
            if !held { continuation.resume() }
        }
    }

    public func recharge(idempotencyKey: String) async throws -> RechargeRecord? {
        try await memory.recharge(idempotencyKey: idempotencyKey)
    }
}
