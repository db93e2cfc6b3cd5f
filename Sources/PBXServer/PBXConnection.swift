import BillingCore
import Metering
import PBXWire
import Synchronization

/// A connected, handshaken PBX session: the route of the calls it owns.
final class PBXConnection: CallRoute {
    let sessionID: String
    let nodeID: String
    private let nextPushID = Atomic<UInt64>(1)
    private let queuePush: @Sendable ([UInt8]) -> Bool
    private let closeConnection: @Sendable () -> Void
    /// What is queued for the connection's writer now (tests wait for it to drain).
    let queued: @Sendable () -> Int

    init(sessionID: String, nodeID: String, pushes: @escaping @Sendable ([UInt8]) -> Bool,
         queued: @escaping @Sendable () -> Int, close: @escaping @Sendable () -> Void) {
        self.sessionID = sessionID
        self.nodeID = nodeID
        self.queuePush = pushes
        self.queued = queued
        self.closeConnection = close
    }

    /// Closes the connection (a PBX that does not read its pushes).
    func close() { closeConnection() }

    /// A fresh correlation id for a server push (the PBX only echoes them).
    private func pushID() -> UInt64 { nextPushID.wrappingAdd(1, ordering: .relaxed).oldValue }

    func deliver(_ event: BillingEvent, nowMillis: Int64) -> Bool {
        queuePush(WireReplies.push(event, correlationID: pushID(), nowMillis: nowMillis))
    }

    func hangup(callID: String, reason: String) -> Bool {
        queuePush(WireReplies.hangup(callID: callID, reason: String(reason.prefix(128)), correlationID: pushID()))
    }

    var description: String { sessionID }
}
