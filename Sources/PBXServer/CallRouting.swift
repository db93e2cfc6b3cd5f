import Synchronization

/// Which connection owns each live call: pushes for a call go to the connection that authorized it, or to the
/// one that adopted it in a resync.
final class CallRouting: Sendable {
    private let owners = Mutex<[String: PBXConnection]>([:])

    func own(_ callID: String, by connection: PBXConnection) {
        owners.withLock { $0[callID] = connection }
    }

    func owner(of callID: String) -> PBXConnection? { owners.withLock { $0[callID] } }

    func release(_ callID: String) { owners.withLock { _ = $0.removeValue(forKey: callID) } }

    /// Calls owned by a connection that went away stay routed to it until a resync moves them; pushes to a
    /// closed connection are dropped (the PBX's grant failsafe covers the gap).
    func count() -> Int { owners.withLock { $0.count } }
}
