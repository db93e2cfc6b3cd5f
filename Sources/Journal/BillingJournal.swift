/// Where the engine sends what must be durable. The ledger implements it over SQLite.
///
/// `append` and `checkpoint` never block: they queue. An entry appended before another is committed no later
/// than it; a checkpoint replaces the earlier checkpoint of its extension and is committed with the first
/// batch after it, together with every entry appended before it. `waitCommitted` returns once the entry
/// with that sequence number (and everything before it) is committed.
public protocol BillingJournal: Sendable {
    /// Queues an entry and, atomically with it, the extension's checkpoint; returns the entry's sequence number.
    func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64
    /// Queues an extension's latest live state.
    func checkpoint(_ checkpoint: AccountCheckpoint)
    /// Records that the engine was metering, with every call still open, at `instant` (engine ms): recovery
    /// re-derives the charges of open calls up to the latest such instant committed. Cheap enough to call on
    /// every wake-up; the journal decides how often it is worth a write.
    func metered(through instant: Int64)
    /// Waits until the entry `sequence` is committed; throws when it cannot be.
    func waitCommitted(_ sequence: UInt64) async throws
    /// Whether `waitCommitted(sequence)` would return (or throw) without waiting.
    func isResolved(_ sequence: UInt64) -> Bool
    /// A committed recharge made with this idempotency key, if any.
    func recharge(idempotencyKey: String) async throws -> RechargeRecord?
}
