public import BillingCore

/// A request from an established PBX session, decoded into plain values for the engine.
public enum PBXRequest: Sendable, Hashable {
    case authorize(callID: String, extensionNumber: String, dialled: String)
    case answered(callID: String)
    /// `lost`: the call as the PBX describes it in an End sent again after a reconnect (its extension and dialled
    /// number, answered `billableMillis` ago), from which the engine settles a call a restart lost whole.
    case ended(callID: String, billableMillis: Int64, cause: String, lost: ClaimedCall? = nil)
    case extensionSync([SyncedExtension])
    case heartbeat
    case resync([ClaimedCall])
    /// The PBX acknowledged the push with this correlation id.
    case pushAcknowledged

    public struct SyncedExtension: Sendable, Hashable {
        public var number: String
        public var userName: String
    }

}
