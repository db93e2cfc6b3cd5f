import BillingCore
import Metering
import PBXWire
import Synchronization

/// A connected, handshaken PBX session: the route of the calls it owns.
final class PBXConnection: CallRoute {
    let sessionID: String
    let nodeID: String
    let pushes: PushQueue
    private let nextPushID = Atomic<UInt64>(1)
    private let closeConnection: @Sendable () -> Void

    init(sessionID: String, nodeID: String, pushes: PushQueue,
         close: @escaping @Sendable () -> Void) {
        self.sessionID = sessionID
        self.nodeID = nodeID
        self.pushes = pushes
        self.closeConnection = close
    }

    /// Closes the connection (a PBX that does not read its pushes).
    func close() { closeConnection() }

    /// A fresh correlation id for a server push (odd numbers would do as well; the PBX only echoes them).
    func pushID() -> UInt64 { nextPushID.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// Queues a push; false when the PBX is not reading and its queue is full (the caller closes it).
    func push(_ payload: [UInt8]) -> Bool { pushes.offer(payload) }

    func deliver(_ event: BillingEvent, nowMillis: Int64) -> Bool {
        push(WireReplies.push(event, correlationID: pushID(), nowMillis: nowMillis))
    }

    func hangup(callID: String, reason: String) -> Bool {
        push(WireReplies.hangup(callID: callID, reason: String(reason.prefix(128)), correlationID: pushID()))
    }

    var description: String { sessionID }
}

/// When a connection last delivered a whole frame, in engine milliseconds.
final class ConnectionActivity: Sendable {
    private let lastFrameAt: Atomic<Int64>

    init(now: Int64) { lastFrameAt = Atomic(now) }

    func touch(_ now: Int64) { lastFrameAt.store(now, ordering: .relaxed) }

    var last: Int64 { lastFrameAt.load(ordering: .relaxed) }
}
