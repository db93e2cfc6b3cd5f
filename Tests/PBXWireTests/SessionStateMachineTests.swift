import BillingCore
import NIOCore
@testable import PBXWire
import SwiftProtobuf
import Testing

@Suite("PBX session state machine")
struct SessionStateMachineTests {
    static let configuration = SessionStateMachine.Configuration(secret: "s3cret", serverVersion: "test")

    static func payload(_ build: (inout Tollgate_Pbx_V1_Envelope) -> Void) -> ByteBuffer {
        var envelope = Tollgate_Pbx_V1_Envelope()
        build(&envelope)
        return ByteBuffer(bytes: try! envelope.serializedBytes() as [UInt8])
    }

    static func hello(major: UInt32 = 1, minor: UInt32 = 0, secret: String = "s3cret", node: String = "pbx-1")
        -> ByteBuffer
    {
        payload {
            $0.correlationID = 1
            var hello = Tollgate_Pbx_V1_Hello()
            hello.protocolMajor = major
            hello.protocolMinor = minor
            hello.secret = secret
            hello.nodeID = node
            $0.hello = hello
        }
    }

    static func decode(_ bytes: [UInt8]) -> Tollgate_Pbx_V1_Envelope {
        try! Tollgate_Pbx_V1_Envelope(serializedBytes: bytes)
    }

    static func authorize(_ id: UInt64 = 7) -> ByteBuffer {
        payload {
            $0.correlationID = id
            var request = Tollgate_Pbx_V1_AuthorizeRequest()
            request.callID = "c1"
            request.extensionNumber = "8001"
            request.dialled = "0123"
            $0.authorize = request
        }
    }

    func established() -> SessionStateMachine {
        var machine = SessionStateMachine(configuration: Self.configuration)
        _ = machine.received(Self.hello(), nowMillis: 1, sessionID: "sess-1")
        return machine
    }

    @Test("a good Hello establishes the session and the reply names it")
    func handshake() {
        var machine = SessionStateMachine(configuration: Self.configuration)
        guard case .send(let bytes) = machine.received(Self.hello(), nowMillis: 42, sessionID: "sess-1") else {
            Issue.record("no reply")
            return
        }
        let reply = Self.decode(bytes)
        #expect(reply.correlationID == 1 && reply.status.code == .ok)
        #expect(reply.helloReply.sessionID == "sess-1" && reply.helloReply.serverTimeMs == 42)
        #expect(reply.helloReply.protocolMajor == 1 && reply.helloReply.maxFrameBytes == 65_536)
        #expect(machine.state == .established(nodeID: "pbx-1", sessionID: "sess-1"))
    }

    @Test("a newer minor version is accepted")
    func newerMinor() {
        var machine = SessionStateMachine(configuration: Self.configuration)
        _ = machine.received(Self.hello(minor: 9), nowMillis: 1, sessionID: "s")
        #expect(machine.state == .established(nodeID: "pbx-1", sessionID: "s"))
    }

    @Test("with a client certificate, only a node it names may say Hello; without one, any node",
          arguments: [(["pbx-1"], true), (["pbx-2", "pbx-1"], true), (["pbx-2"], false), ([], false), (nil, true)]
              as [([String]?, Bool)])
    func certifiedNode(names: [String]?, accepted: Bool) {
        var machine = SessionStateMachine(configuration: Self.configuration)
        machine.certifiedNodeIDs = names
        let action = machine.received(Self.hello(node: "pbx-1"), nowMillis: 1, sessionID: "s")
        if accepted {
            #expect(machine.state == .established(nodeID: "pbx-1", sessionID: "s"))
            return
        }
        guard case .sendAndClose(let bytes) = action else {
            Issue.record("not closed")
            return
        }
        let status = Self.decode(bytes).status
        #expect(status.code == .unauthenticated && status.field == "nodeId")
        #expect(status.message.contains("not node \"pbx-1\""))
        #expect(status.message.contains(names == [] ? "names no node" : "is for \"pbx-2\""))
        #expect(machine.state == .closed)
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        let name: String
        let frame: ByteBuffer
        let code: Tollgate_Pbx_V1_StatusCode
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "a request before the handshake", frame: authorize(), code: .unauthenticated),
        Refusal(name: "a wrong secret", frame: hello(secret: "guess"), code: .unauthenticated),
        Refusal(name: "a secret differing only in length", frame: hello(secret: "s3cret!"), code: .unauthenticated),
        Refusal(name: "an unsupported major version", frame: hello(major: 2), code: .failedPrecondition),
        Refusal(name: "an empty node id", frame: hello(node: ""), code: .invalidArgument),
        Refusal(name: "garbage bytes", frame: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0x01, 0x02]), code: .invalidArgument),
    ]

    @Test("bad handshakes are answered with a status and the connection is closed", arguments: refusals)
    func refused(refusal: Refusal) {
        var machine = SessionStateMachine(configuration: Self.configuration)
        guard case .sendAndClose(let bytes) = machine.received(refusal.frame, nowMillis: 1, sessionID: "s") else {
            Issue.record("not closed")
            return
        }
        #expect(Self.decode(bytes).status.code == refusal.code)
        #expect(machine.state == .closed)
        #expect(machine.received(Self.hello(), nowMillis: 1, sessionID: "s") == .none)
    }

    @Test("requests are dispatched as domain values with their correlation id")
    func dispatch() {
        var machine = established()
        #expect(machine.received(Self.authorize(9), nowMillis: 2, sessionID: "x")
            == .dispatch(correlationID: 9, .authorize(callID: "c1", extensionNumber: "8001", dialled: "0123")))
        let ended = Self.payload {
            $0.correlationID = 10
            var request = Tollgate_Pbx_V1_EndedRequest()
            request.callID = "c1"
            request.billableMs = 61_000
            request.cause = "NORMAL_CLEARING"
            $0.ended = request
        }
        #expect(machine.received(ended, nowMillis: 2, sessionID: "x")
            == .dispatch(correlationID: 10, .ended(callID: "c1", billableMillis: 61_000, cause: "NORMAL_CLEARING")))
    }

    @Test("after the handshake, wrong messages get a status and the session stays open", arguments: [
        ("an empty envelope", Tollgate_Pbx_V1_StatusCode.invalidArgument),
        ("a server-only message", .invalidArgument),
        ("a second Hello", .failedPrecondition),
        ("an absurd billable time", .invalidArgument),
        ("an absurd answer age in a resync", .invalidArgument),
    ])
    func wrongMessages(name: String, code: Tollgate_Pbx_V1_StatusCode) {
        var machine = established()
        let frame: ByteBuffer = switch name {
        case "an empty envelope": Self.payload { $0.correlationID = 3 }
        case "a server-only message": Self.payload { $0.correlationID = 3; $0.cutoff = Tollgate_Pbx_V1_Cutoff() }
        case "a second Hello": Self.hello()
        case "an absurd answer age in a resync": Self.payload {
            $0.correlationID = 3
            var call = Tollgate_Pbx_V1_LiveCall()
            call.callID = "c1"
            call.answered = true
            call.answeredMsAgo = UInt64.max
            $0.resync.calls = [call]
        }
        default: Self.payload {
            $0.correlationID = 3
            var request = Tollgate_Pbx_V1_EndedRequest()
            request.billableMs = UInt64.max
            $0.ended = request
        }
        }
        guard case .send(let bytes) = machine.received(frame, nowMillis: 1, sessionID: "s") else {
            Issue.record("expected a reply")
            return
        }
        #expect(Self.decode(bytes).status.code == code)
        if case .established = machine.state {} else { Issue.record("session closed") }
    }

    @Test("unknown fields from a newer peer are ignored")
    func unknownFields() throws {
        var machine = established()
        var bytes = Array(Self.authorize(5).readableBytesView)
        // Field 999, varint 1: a field this version does not know.
        bytes += [0xB8, 0x3E, 0x01]
        #expect(machine.received(ByteBuffer(bytes: bytes), nowMillis: 1, sessionID: "s")
            == .dispatch(correlationID: 5, .authorize(callID: "c1", extensionNumber: "8001", dialled: "0123")))
    }

    @Test("a broken byte stream is answered and closed")
    func frameFailure() {
        var machine = established()
        guard case .sendAndClose(let bytes) = machine.frameFailed(.tooLarge(length: 1 << 30, max: 65_536)) else {
            Issue.record("not closed")
            return
        }
        #expect(Self.decode(bytes).status.code == .resourceExhausted)
    }

    @Test("replies and pushes encode the domain values")
    func encoders() throws {
        let rate = try Rate(id: 4, prefix: "00", tariff: Tariff(initialCost: Money(micros: 100_000), initialTime: 5,
                                                               rate: Money(micros: 50_000), unit: 2), extensions: [])
        let allowed = Self.decode(WireReplies.authorize(correlationID: 3, .allowed(rate: rate, unbilled: nil, grantMillis: 17_000)))
        #expect(allowed.authorizeReply.decision == .allow && allowed.authorizeReply.grantMs == 17_000)
        #expect(allowed.authorizeReply.rate.rateMicros == 50_000 && allowed.authorizeReply.rate.unitS == 2)
        let denied = Self.decode(WireReplies.authorize(correlationID: 3, .denied(.insufficientFunds)))
        #expect(denied.authorizeReply.decision == .deny && denied.authorizeReply.denyReason == .insufficientFunds)
        let free = Self.decode(WireReplies.authorize(correlationID: 3, .allowed(rate: nil, unbilled: .freeNumber, grantMillis: nil)))
        #expect(free.authorizeReply.unbilled && free.authorizeReply.grantUnlimited)
        let cutoff = WireReplies.push(.cutoff(callID: "c", extensionNumber: "1", boundary: 99, reason: .insufficientFunds),
                                      correlationID: 8, nowMillis: 100)
        #expect(Self.decode(cutoff).cutoff.boundaryMs == 99 && Self.decode(cutoff).correlationID == 8)
        let error = Self.decode(WireReplies.ack(correlationID: 2, status: WireStatus(TollgateError(.notFound, "no call", field: "callId"))))
        #expect(error.status.code == .notFound && error.status.field == "callId")
    }
}
