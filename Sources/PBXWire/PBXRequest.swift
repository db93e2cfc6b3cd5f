public import BillingCore

/// A request from an established PBX session, decoded into plain values for the engine.
public enum PBXRequest: Sendable, Hashable {
    case authorize(callID: String, extensionNumber: String, dialled: String)
    case answered(callID: String)
    case ended(callID: String, billableMillis: Int64, cause: String)
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
