/// Something the engine must tell the PBX or the ledger about.
public enum BillingEvent: Sendable, Hashable {
    /// The call's next charge could not be paid: the PBX must hang it up. `boundary` is the exact instant
    /// (ms since the Unix epoch) up to which the call has paid.
    case cutoff(callID: String, extensionNumber: String, boundary: Int64, reason: DenyReason)
    /// The call will be cut at `cutoffAt` unless money arrives.
    case warning(callID: String, extensionNumber: String, cutoffAt: Int64, secondsLeft: Int64)
    /// The call's grant now lasts until `deadline` (nil: unlimited).
    case grantRenewed(callID: String, extensionNumber: String, deadline: Int64?)

    /// The call this event concerns.
    public var callID: String {
        switch self {
        case .cutoff(let id, _, _, _), .warning(let id, _, _, _), .grantRenewed(let id, _, _): id
        }
    }

    /// The extension whose call it is.
    public var extensionNumber: String {
        switch self {
        case .cutoff(_, let number, _, _), .warning(_, let number, _, _), .grantRenewed(_, let number, _): number
        }
    }
}
