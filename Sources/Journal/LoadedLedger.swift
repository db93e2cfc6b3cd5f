public import BillingCore
public import Foundation

/// Everything the engine restores at start-up, as the journal's store read it back
/// (``MeteringEngine/init(clock:originEpochMillis:journal:restoring:logger:)``).
public struct LoadedLedger: Sendable {
    public var accounts: [RestoredAccount]
    public var rates: [Rate]
    /// The stored billing policy (the default when none was saved).
    public var policy: BillingPolicy
    /// The stored rate time zone (UTC when none was saved).
    public var timeZone: TimeZone
    /// The last instant the engine was known metering with the open calls live; see
    /// ``MeteringEngine/restore(_:meteredThrough:endedCallIDs:)``.
    public var meteredThrough: Int64?
    /// The ids of the last calls settled (denied ones aside), oldest first, at most
    /// ``endedCallIDsRemembered``: a restarted engine still refuses them as new calls.
    public var endedCallIDs: [String]

    public init(accounts: [RestoredAccount], rates: [Rate], policy: BillingPolicy, timeZone: TimeZone,
                meteredThrough: Int64?, endedCallIDs: [String]) {
        self.accounts = accounts
        self.rates = rates
        self.policy = policy
        self.timeZone = timeZone
        self.meteredThrough = meteredThrough
        self.endedCallIDs = endedCallIDs
    }
}

/// How many ended call ids the engine remembers, engine-wide, to refuse them as new calls; a restarted engine is
/// given back as many from the call log.
public let endedCallIDsRemembered = 65_536
