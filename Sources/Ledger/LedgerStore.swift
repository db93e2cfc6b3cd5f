public import BillingCore
public import Metering

/// Everything the engine loads at start-up.
public struct LoadedLedger: Sendable {
    public var accounts: [RestoredAccount]
    public var rates: [Rate]
    public var settings: [String: String]
    /// The last instant the engine was known metering with the open calls live; see
    /// ``MeteringEngine/restore(_:meteredThrough:endedCallIDs:)``.
    public var meteredThrough: Int64?
    /// The ids of the last calls settled (denied ones aside), oldest first, at most
    /// ``endedCallIDsRemembered``: a restarted engine still refuses them as new calls.
    public var endedCallIDs: [String]
}

/// A difference `verify` found between the ledger and the balances.
public struct LedgerDiscrepancy: Sendable, Hashable, CustomStringConvertible {
    public var extensionNumber: String
    public var message: String

    public var description: String { "\(extensionNumber): \(message)" }
}

/// The durable store behind the engine. SQLite implements it; a PostgreSQL store for multi-node deployments
/// can implement the same.
public protocol LedgerStore: BillingJournal {
    /// Commits queued writes until cancelled or closed; run it as a service.
    func run() async
    /// Commits everything queued and returns when it is durable.
    func flush() async throws
    /// Reads the state to restore after a start or a crash.
    func load() async throws -> LoadedLedger
    /// Recomputes every balance from the ledger and lists the differences.
    func verify() async throws -> [LedgerDiscrepancy]
}
