public import BillingCore
import Journal

/// A call's settlement, made in memory and queued to the journal; acknowledge it only after ``committed()``.
public struct PendingSettlement: Sendable {
    public let outcome: AccountBook.EndOutcome
    /// The commit to wait for before acknowledging.
    public let commit: JournalCommit

    init(outcome: AccountBook.EndOutcome, sequence: UInt64?, journal: any BillingJournal) {
        self.outcome = outcome
        commit = JournalCommit(sequence: sequence, journal: journal)
    }

    /// Whether ``committed()`` would return without waiting.
    public var isResolved: Bool { commit.isResolved }

    /// Returns once the settlement is durable (at once when nothing was settled now); throws when it cannot be.
    public func committed() async throws { try await commit.wait() }
}

/// The commit of one journal entry, apart from what the entry holds: a reply waiting for it keeps only this.
public struct JournalCommit: Sendable {
    let sequence: UInt64?
    let journal: any BillingJournal

    /// Whether ``wait()`` would return (or throw) without waiting.
    public var isResolved: Bool { sequence.map(journal.isResolved) ?? true }

    /// Returns once the entry is durable (at once when there is none); throws when it cannot be.
    public func wait() async throws {
        if let sequence { try await journal.waitCommitted(sequence) }
    }
}
