import BillingCore
public import NIOCore

/// One PBX connection's protocol logic, without I/O: the handshake, then request decoding.
///
/// The connection handler feeds it each frame and carries out the action it returns. Every bad input gets a
/// clear status; input after which the stream cannot be trusted (a bad handshake, undecodable bytes) also
/// closes the connection. Nothing here touches the engine, so nothing here can change billing data.
public struct SessionStateMachine: Sendable {
    /// What the server offers and requires.
    public struct Configuration: Sendable {
        public var secret: String
        public var serverVersion: String
        public var heartbeatIntervalMillis: UInt32
        public var maxFrameBytes: Int

        public init(secret: String, serverVersion: String, heartbeatIntervalMillis: UInt32 = 10_000,
                    maxFrameBytes: Int = FrameLimits.defaultMaxFrameBytes) {
            self.secret = secret
            self.serverVersion = serverVersion
            self.heartbeatIntervalMillis = heartbeatIntervalMillis
            self.maxFrameBytes = maxFrameBytes
        }
    }

    /// The protocol version this server speaks.
    public static let protocolMajor: UInt32 = 1
    public static let protocolMinor: UInt32 = 0

    public enum State: Sendable, Hashable {
        case awaitingHello
        case established(nodeID: String, sessionID: String)
        case closed
    }

    /// What the connection handler must do next.
    public enum Action: Sendable, Hashable {
        /// Write this frame payload.
        case send([UInt8])
        /// Hand the request to the engine; reply with `WireReplies` using the correlation id.
        case dispatch(correlationID: UInt64, PBXRequest)
        /// Write this frame payload, then close the connection.
        case sendAndClose([UInt8])
        /// Nothing to do (input after close).
        case none
    }

    public private(set) var state: State = .awaitingHello
    private let configuration: Configuration
    /// The node ids the connection's client certificate names (its DNS subject alternative names), when it
    /// presented one (a TLS port with a client CA): the Hello must be from one of them, so that a node's
    /// certificate cannot stand for another node. nil: no client certificate, any node id.
    public var certifiedNodeIDs: [String]?

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Handles one frame's payload. `sessionID` names the session if this frame completes the handshake.
    public mutating func received(_ payload: ByteBuffer, nowMillis: Int64, sessionID: @autoclosure () -> String)
        -> Action
    {
        received(InboundEnvelope(payload: payload), nowMillis: nowMillis, sessionID: sessionID())
    }

    /// Handles one frame already decoded (on the event loop, by `EnvelopeDecoder`).
    public mutating func received(_ frame: InboundEnvelope, nowMillis: Int64, sessionID: @autoclosure () -> String)
        -> Action
    {
        guard state != .closed else { return .none }
        guard let envelope = frame.envelope else {
            return close(WireReplies.ack(correlationID: 0, status: .invalid("frame is not a valid Envelope")))
        }
        let id = envelope.correlationID
        guard case .established = state else {
            return handshake(envelope, nowMillis: nowMillis, sessionID: sessionID())
        }
        switch envelope.body {
        case .authorize(let request):
            return .dispatch(correlationID: id, .authorize(
                callID: request.callID, extensionNumber: request.extensionNumber, dialled: request.dialled))
        case .answered(let request):
            return .dispatch(correlationID: id, .answered(callID: request.callID))
        case .ended(let request):
            guard request.billableMs <= UInt64(Int64.max) else {
                return .send(WireReplies.ack(correlationID: id, status: .invalid("billable_ms out of range", field: "billableMs")))
            }
            let billable = Int64(request.billableMs)
            // As a resync would claim it, ended now: answered `billable` ago (or never, if 0).
            let lost = request.extensionNumber.isEmpty ? nil : ClaimedCall(
                callID: request.callID, extensionNumber: request.extensionNumber, dialled: request.dialled,
                answered: billable > 0, answeredMillisAgo: billable)
            return .dispatch(correlationID: id, .ended(
                callID: request.callID, billableMillis: billable, cause: request.cause, lost: lost))
        case .extensionSync(let request):
            return .dispatch(correlationID: id, .extensionSync(request.extensions.map {
                PBXRequest.SyncedExtension(number: $0.number, userName: $0.userName)
            }))
        case .heartbeat:
            return .dispatch(correlationID: id, .heartbeat)
        case .resync(let request):
            guard request.calls.allSatisfy({ $0.answeredMsAgo <= UInt64(Int64.max) }) else {
                return .send(WireReplies.ack(correlationID: id, status: .invalid("answered_ms_ago out of range",
                                                                                  field: "answeredMsAgo")))
            }
            return .dispatch(correlationID: id, .resync(request.calls.map {
                ClaimedCall(callID: $0.callID, extensionNumber: $0.extensionNumber, dialled: $0.dialled,
                                       answered: $0.answered, answeredMillisAgo: Int64($0.answeredMsAgo))
            }))
        case .ack:
            return .dispatch(correlationID: id, .pushAcknowledged)
        case .hello:
            return .send(WireReplies.ack(correlationID: id, status: .failedPrecondition("already handshaken")))
        case nil:
            return .send(WireReplies.ack(correlationID: id, status: .invalid("envelope has no message")))
        default:
            return .send(WireReplies.ack(correlationID: id, status: .invalid("not a request a PBX may send")))
        }
    }

    /// The byte stream broke (oversized or truncated frame): say why and close.
    public mutating func frameFailed(_ error: FrameError) -> Action {
        guard state != .closed else { return .none }
        let status: WireStatus = switch error {
        case .tooLarge: .resourceExhausted(error.description)
        case .truncated: .invalid(error.description)
        }
        return close(WireReplies.ack(correlationID: 0, status: status))
    }

    private mutating func handshake(_ envelope: Tollgate_Pbx_V1_Envelope, nowMillis: Int64, sessionID: String)
        -> Action
    {
        let id = envelope.correlationID
        guard case .hello(let hello) = envelope.body else {
            return close(WireReplies.ack(correlationID: id, status: .unauthenticated("send Hello first")))
        }
        guard hello.protocolMajor == Self.protocolMajor else {
            return close(WireReplies.ack(correlationID: id, status: .failedPrecondition(
                "protocol \(hello.protocolMajor).x is not supported; this server speaks \(Self.protocolMajor).\(Self.protocolMinor)")))
        }
        guard SecretComparison.equal(hello.secret, configuration.secret) else {
            return close(WireReplies.ack(correlationID: id, status: .unauthenticated("wrong secret")))
        }
        guard (1...128).contains(hello.nodeID.utf8.count) else {
            return close(WireReplies.ack(correlationID: id, status: .invalid("node_id must be 1-128 bytes", field: "nodeId")))
        }
        if let certified = certifiedNodeIDs, !certified.contains(hello.nodeID) {
            let names = certified.isEmpty ? "names no node (no DNS subjectAltName)"
                : "is for " + certified.map { "\"\($0)\"" }.joined(separator: ", ")
            return close(WireReplies.ack(correlationID: id, status: WireStatus(
                .unauthenticated, "this connection's client certificate \(names), not node \"\(hello.nodeID)\"",
                field: "nodeId")))
        }
        state = .established(nodeID: hello.nodeID, sessionID: sessionID)
        var reply = Tollgate_Pbx_V1_HelloReply()
        reply.protocolMajor = Self.protocolMajor
        reply.protocolMinor = Self.protocolMinor
        reply.serverVersion = configuration.serverVersion
        reply.sessionID = sessionID
        reply.heartbeatIntervalMs = configuration.heartbeatIntervalMillis
        reply.maxFrameBytes = UInt32(configuration.maxFrameBytes)
        reply.serverTimeMs = nowMillis
        return .send(WireReplies.envelope(correlationID: id, status: .ok, body: .helloReply(reply)))
    }

    private mutating func close(_ payload: [UInt8]) -> Action {
        state = .closed
        return .sendAndClose(payload)
    }
}

/// Compares secrets in time that does not depend on where they differ.
enum SecretComparison {
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for index in 0..<max(x.count, y.count) {
            let left = index < x.count ? x[index] : 0
            let right = index < y.count ? y[index] : 0
            difference |= left ^ right
        }
        return difference == 0 && x.count == y.count
    }
}
