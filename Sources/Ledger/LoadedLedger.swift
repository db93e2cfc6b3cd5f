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
