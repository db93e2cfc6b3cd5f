public import BillingCore

/// A call's settlement, made in memory and queued to the journal; acknowledge it only after ``committed()``.
public struct PendingSettlement: Sendable {
    public let outcome: AccountBook.EndOutcome
    let sequence: UInt64?
    let journal: any BillingJournal

    /// Whether ``committed()`` would return without waiting.
    public var isResolved: Bool { sequence.map(journal.isResolved) ?? true }

    /// Returns once the settlement is durable (at once when nothing was settled now); throws when it cannot be.
    public func committed() async throws {
        if let sequence { try await journal.waitCommitted(sequence) }
    }
}
