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

    /// The calls a connection owns now.
    func calls(ownedBy connection: PBXConnection) -> [String] {
        owners.withLock { owners in owners.filter { $0.value === connection }.map(\.key) }
    }

    /// Whether `connection` still owns the call (no resync moved it elsewhere).
    func isOwned(_ callID: String, by connection: PBXConnection) -> Bool {
        owners.withLock { $0[callID] === connection }
    }
}
