public import BillingCore

/// Where a live call's pushes go: the PBX connection that authorized the call or claimed it in a resync. The
/// engine keeps one per live call (``MeteringEngine/route(of:)``); what a push looks like on the wire is the
/// route's business.
public protocol CallRoute: AnyObject, Sendable, CustomStringConvertible {
    /// Queues `event` (a cutoff, a warning, a grant renewal) for the PBX, stamped with the engine's time
    /// `nowMillis`. False when the PBX is not reading and its queue is full.
    func deliver(_ event: BillingEvent, nowMillis: Int64) -> Bool
    /// Queues an operator's hang-up of `callID`. False as for ``deliver(_:nowMillis:)``.
    func hangup(callID: String, reason: String) -> Bool
    /// Closes the connection (a PBX that does not read its pushes).
    func close()
}
