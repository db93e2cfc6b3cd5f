public import Logging

/// The metadata keys of Tollgate's log lines: one vocabulary for every surface, so one fact has one name
/// wherever it is logged (snake_case, the protocol's own field names where it has one: a bad End names
/// `billable_ms` on every path).
public enum LogKey: String, Sendable, CaseIterable {
    case callID = "call_id"
    case extensionNumber = "extension"
    case billableMillis = "billable_ms"
    case error
    case user
    case role
    case sessionID = "session_id"
    case nodeID = "node_id"
    case path
    case address
    case count
    case idleMillis = "idle_ms"
    case licensee
    case dataDirectory = "data_dir"
    case pbxAddress = "pbx_address"
    case httpAddress = "http_address"
    case verify
    case waiting
    case claimed
    case adopted
    case authorizedAgain = "authorized_again"
    case unknown
}

extension Dictionary where Key == String, Value == Logger.MetadataValue {
    /// Log metadata from typed keys: `metadata: .fields([.callID: "\(id)", .error: "\(error)"])`.
    public static func fields(_ pairs: KeyValuePairs<LogKey, Logger.MetadataValue>) -> Logger.Metadata {
        Dictionary(pairs.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
