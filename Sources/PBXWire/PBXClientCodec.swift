public import BillingCore
public import NIOCore
import SwiftProtobuf

/// The PBX side of the protocol in plain values: builds request frames and reads server frames. Used by the
/// demo's simulated PBX and by Swift load tools; a real PBX module uses the C client on libprotobuf-c.
public enum PBXClientCodec {
    /// A frame from the server, decoded.
    public struct ServerMessage: Sendable, Hashable {
        public var correlationID: UInt64
        /// Present on replies.
        public var status: WireStatus?
        public var body: Body
    }

    public enum Body: Sendable, Hashable {
        case helloReply(sessionID: String, heartbeatIntervalMillis: UInt32)
        case authorizeReply(allowed: Bool, denyReason: String, unbilled: Bool, grantMillis: Int64?, rateID: Int64?)
        case endedReply(settledNow: Bool, billedMillis: Int64, costMicros: Int64, balanceAfterMicros: Int64)
        case heartbeatReply(serverTimeMillis: Int64)
        case resyncReply(adopted: [String], unknown: [String])
        case ack
        case cutoff(callID: String, boundaryMillis: Int64)
        case warning(callID: String, secondsLeft: UInt32, cutoffAtMillis: Int64)
        case grantRenewal(callID: String, deadlineMillis: Int64?)
        case hangup(callID: String, reason: String)
        case other
    }

    public static func hello(correlationID: UInt64, nodeID: String, secret: String, software: String) -> [UInt8] {
        var hello = Tollgate_Pbx_V1_Hello()
        hello.protocolMajor = SessionStateMachine.protocolMajor
        hello.protocolMinor = SessionStateMachine.protocolMinor
        hello.nodeID = nodeID
        hello.secret = secret
        hello.software = software
        return request(correlationID, .hello(hello))
    }

    public static func authorize(correlationID: UInt64, callID: String, extensionNumber: String, dialled: String)
        -> [UInt8]
    {
        var request = Tollgate_Pbx_V1_AuthorizeRequest()
        request.callID = callID
        request.extensionNumber = extensionNumber
        request.dialled = dialled
        return Self.request(correlationID, .authorize(request))
    }

    public static func answered(correlationID: UInt64, callID: String) -> [UInt8] {
        var request = Tollgate_Pbx_V1_AnsweredRequest()
        request.callID = callID
        return Self.request(correlationID, .answered(request))
    }

    /// An End; an End sent again after a reconnect also names the call's extension and dialled number
    /// (`lost`), so that a server that lost the call whole in a restart can still settle it.
    public static func ended(correlationID: UInt64, callID: String, billableMillis: Int64, cause: String,
                             lost: (extensionNumber: String, dialled: String)? = nil) -> [UInt8] {
        var request = Tollgate_Pbx_V1_EndedRequest()
        request.callID = callID
        request.billableMs = UInt64(max(0, billableMillis))
        request.cause = cause
        if let lost {
            request.extensionNumber = lost.extensionNumber
            request.dialled = lost.dialled
        }
        return Self.request(correlationID, .ended(request))
    }

    public static func extensionSync(correlationID: UInt64, extensions: [(number: String, userName: String)]) -> [UInt8] {
        var request = Tollgate_Pbx_V1_ExtensionSyncRequest()
        request.extensions = extensions.map {
            var info = Tollgate_Pbx_V1_ExtensionInfo()
            info.number = $0.number
            info.userName = $0.userName
            return info
        }
        return Self.request(correlationID, .extensionSync(request))
    }

    /// The live calls a PBX claims after it reconnected.
    public static func resync(correlationID: UInt64, calls: [ClaimedCall]) -> [UInt8] {
        var request = Tollgate_Pbx_V1_ResyncRequest()
        request.calls = calls.map {
            var call = Tollgate_Pbx_V1_LiveCall()
            call.callID = $0.callID
            call.extensionNumber = $0.extensionNumber
            call.dialled = $0.dialled
            call.answered = $0.answered
            call.answeredMsAgo = UInt64(max(0, $0.answeredMillisAgo))
            return call
        }
        return Self.request(correlationID, .resync(request))
    }

    public static func heartbeat(correlationID: UInt64) -> [UInt8] {
        request(correlationID, .heartbeat(Tollgate_Pbx_V1_HeartbeatRequest()))
    }

    /// The PBX's acknowledgement of a push.
    public static func ack(correlationID: UInt64) -> [UInt8] { request(correlationID, .ack(Tollgate_Pbx_V1_Ack())) }

    static func request(_ correlationID: UInt64, _ body: Tollgate_Pbx_V1_Envelope.OneOf_Body) -> [UInt8] {
        WireReplies.envelope(correlationID: correlationID, status: nil, body: body)
    }

    /// Decodes one frame payload from the server.
    public static func decode(_ payload: ByteBuffer) throws -> ServerMessage {
        let envelope = try Tollgate_Pbx_V1_Envelope(serializedBytes: payload.readableBytesSpan)
        var status: WireStatus?
        if envelope.hasStatus {
            status = WireStatus(WireStatus.Code(rawValue: envelope.status.code.rawValue) ?? .internal,
                                envelope.status.message, field: envelope.status.field)
        }
        let body: Body
        switch envelope.body {
        case .helloReply(let reply):
            body = .helloReply(sessionID: reply.sessionID, heartbeatIntervalMillis: reply.heartbeatIntervalMs)
        case .authorizeReply(let reply):
            body = .authorizeReply(
                allowed: reply.decision == .allow, denyReason: reply.denyReason.name, unbilled: reply.unbilled,
                grantMillis: reply.grantUnlimited ? nil : Int64(clamping: reply.grantMs),
                rateID: reply.hasRate ? reply.rate.rateID : nil)
        case .endedReply(let reply):
            body = .endedReply(settledNow: reply.settledNow, billedMillis: Int64(clamping: reply.billedMs),
                               costMicros: reply.costMicros, balanceAfterMicros: reply.balanceAfterMicros)
        case .heartbeatReply(let reply): body = .heartbeatReply(serverTimeMillis: reply.serverTimeMs)
        case .resyncReply(let reply): body = .resyncReply(adopted: reply.adoptedCallIds, unknown: reply.unknownCallIds)
        case .ack: body = .ack
        case .cutoff(let push): body = .cutoff(callID: push.callID, boundaryMillis: push.boundaryMs)
        case .warning(let push):
            body = .warning(callID: push.callID, secondsLeft: push.secondsLeft, cutoffAtMillis: push.cutoffAtMs)
        case .grantRenewal(let push):
            body = .grantRenewal(callID: push.callID, deadlineMillis: push.unlimited ? nil : push.deadlineMs)
        case .hangup(let push): body = .hangup(callID: push.callID, reason: push.reason)
        default: body = .other
        }
        return ServerMessage(correlationID: envelope.correlationID, status: status, body: body)
    }
}

extension Tollgate_Pbx_V1_DenyReason {
    /// The reason as the protocol and the call log name it.
    var name: String {
        switch self {
        case .locked: DenyReason.locked.rawValue
        case .noRate: DenyReason.noRate.rawValue
        case .insufficientFunds: DenyReason.insufficientFunds.rawValue
        default: ""
        }
    }
}
