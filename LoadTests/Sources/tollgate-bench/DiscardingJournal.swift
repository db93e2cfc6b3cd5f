import Journal
import Metering

/// A journal that acknowledges at once and keeps nothing: measures metering alone.
final class DiscardingJournal: BillingJournal {
    func append(_ entry: JournalEntry, checkpoint: AccountCheckpoint?) -> UInt64 { 0 }
    func checkpoint(_ checkpoint: AccountCheckpoint) {}
    func metered(through instant: Int64) {}
    func waitCommitted(_ sequence: UInt64) async throws {}
    func isResolved(_ sequence: UInt64) -> Bool { true }
    func recharge(idempotencyKey: String) async throws -> RechargeRecord? { nil }
}
