public import BillingCore
public import Journal
import Metering
import Synchronization

/// A journal that commits at once, in memory, and keeps everything for tests to inspect.
public final class MemoryJournal: BillingJournal {
    private struct State {
        var entries: [JournalEntry] = []
        var checkpoints: [String: AccountCheckpoint] = [:]
        var meteredThrough: Int64?

        /// Keeps the latest checkpoint per extension with every change since the first (never stored).
        mutating func put(_ checkpoint: AccountCheckpoint, ended: String?) {
            var checkpoint = checkpoint
            if let older = checkpoints[checkpoint.extensionNumber] { checkpoint.absorb(older, ended: ended) }
            checkpoints[checkpoint.extensionNumber] = checkpoint
        }
    }

    private let state = Mutex(State())

    public init() {}

    public var entries: [JournalEntry] { state.withLock { $0.entries } }
    public var checkpoints: [String: AccountCheckpoint] { state.withLock { $0.checkpoints } }

    /// The latest instant the engine reported metering.
    public var meteredThrough: Int64? { state.withLock { $0.meteredThrough } }

    public var settlements: [CallRecord] {
        entries.compactMap { if case .settled(let record, _) = $0 { record } else { nil } }
    }

    public var recharges: [RechargeRecord] {
        entries.compactMap { if case .recharged(let record, _) = $0 { record } else { nil } }
    }

    public func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 {
        state.withLock { state in
            state.entries.append(entry)
            if let checkpoint { state.put(checkpoint, ended: entry.settledCallID) }
            return UInt64(state.entries.count)
        }
    }

    public func checkpoint(_ checkpoint: AccountCheckpoint) {
        state.withLock { $0.put(checkpoint, ended: nil) }
    }

    public func metered(through instant: Int64) {
        state.withLock { $0.meteredThrough = max($0.meteredThrough ?? instant, instant) }
    }

    public func waitCommitted(_ sequence: UInt64) async throws {}

    public func isResolved(_ sequence: UInt64) -> Bool { true }

    public func recharge(idempotencyKey: String) async throws -> RechargeRecord? {
        recharges.first { $0.idempotencyKey == idempotencyKey }
    }
}
