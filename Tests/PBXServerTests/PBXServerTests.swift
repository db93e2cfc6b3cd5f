import BillingCore
import Journal
import Metering
import NIOCore
@testable import PBXServer
@testable import PBXWire
import TestSupport
import Testing

let t0: Int64 = 1_700_000_000_000

@Suite("PBX server over a loopback socket", .timeLimit(.minutes(1)))
struct PBXServerTests {
    /// An engine on a manual clock, a server on an ephemeral port.
    struct Harness {
        let clock = ManualClock()
        let journal = MemoryJournal()
        let engine: MeteringEngine
        let server: PBXServer
        let task: Task<Void, any Error>
        let port: Int

        init(maxQueuedPushes: Int = 10_000, journal override: (any BillingJournal)? = nil) async throws {
            engine = MeteringEngine(clock: clock, originEpochMillis: t0, journal: override ?? journal)
            let server = PBXServer(engine: engine, configuration: .init(
                port: 0, session: .init(secret: "s3cret", serverVersion: "test"), maxQueuedPushes: maxQueuedPushes))
            self.server = server
            let (ports, bound) = AsyncStream<Int>.makeStream()
            task = Task { try await server.run { bound.yield($0) } }
            var iterator = ports.makeAsyncIterator()
            port = await iterator.next() ?? 0
        }

        /// Extension 8001, billed, with `balance` micro-units, on rate 1: 0.02 per 1-second unit for numbers 0….
        func billed8001(balance: Int64) async throws {
            try await engine.setUpBilled("8001", balance: Money(micros: balance))
            try await engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: Money(micros: 20_000), unit: 1),
                                               extensions: ["8001"]))
        }

        func advance(ms: Int64) async {
            clock.advance(by: .milliseconds(ms))
            await engine.scheduler.fireDue()
        }
    }

    static func authorize(_ id: String, _ ext: String = "8001", _ dialled: String = "0123")
        -> Tollgate_Pbx_V1_Envelope.OneOf_Body
    {
        var request = Tollgate_Pbx_V1_AuthorizeRequest()
        request.callID = id
        request.extensionNumber = ext
        request.dialled = dialled
        return .authorize(request)
    }

    static func answered(_ id: String) -> Tollgate_Pbx_V1_Envelope.OneOf_Body {
        var request = Tollgate_Pbx_V1_AnsweredRequest()
        request.callID = id
        return .answered(request)
    }

    static func ended(_ id: String, _ ms: UInt64) -> Tollgate_Pbx_V1_Envelope.OneOf_Body {
        var request = Tollgate_Pbx_V1_EndedRequest()
        request.callID = id
        request.billableMs = ms
        request.cause = "NORMAL_CLEARING"
        return .ended(request)
    }

    @Test("a call is authorized, metered, cut at its exact boundary by a push, and settled once")
    func callLifecycle() async throws {
        let h = try await Harness()
        defer { h.task.cancel() }
        try await h.billed8001(balance: 40_000)
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
        let hello = try #require(try await pbx.hello())
        #expect(hello.status.code == .ok && !hello.helloReply.sessionID.isEmpty)

        let authorized = try #require(try await pbx.call(Self.authorize("c1")))
        #expect(authorized.authorizeReply.decision == .allow && authorized.authorizeReply.grantMs == 2_000)
        #expect(try await pbx.call(Self.answered("c1"))?.status.code == .ok)
        await h.advance(ms: 2_500)
        let cutoff = try #require(try await pbx.push { $0.cutoff.callID == "c1" })
        #expect(cutoff.cutoff.boundaryMs == t0 + 2_000 && cutoff.cutoff.reason == .insufficientFunds)
        try await pbx.send(.ack(Tollgate_Pbx_V1_Ack()), id: cutoff.correlationID)

        let settled = try #require(try await pbx.call(Self.ended("c1", 2_400)))
        #expect(settled.endedReply.settledNow && settled.endedReply.result == .cutoff)
        #expect(settled.endedReply.costMicros == 40_000 && settled.endedReply.billedMs == 2_000)
        let repeated = try #require(try await pbx.call(Self.ended("c1", 2_400)))
        #expect(repeated.status.code == .ok && !repeated.endedReply.settledNow)
        let unknown = try #require(try await pbx.call(Self.ended("nope", 1)))
        #expect(unknown.status.code == .notFound)
        }
        #expect(await h.engine.extensionAccount(number: "8001")?.balance == .zero)
    }

    /// Where the two tests below stand: call c1 answered, then ended while commits are held, then c2 authorized.
    struct HeldSettlement {
        let pbx: PBXTestClient
        let held: HeldJournal
        let engine: MeteringEngine
        /// The End's correlation id, and the reply to c2's authorization, which arrived first.
        let endedID: UInt64
        let authorizeID: UInt64
        let firstReply: Tollgate_Pbx_V1_Envelope

        func nextReply() async throws -> Tollgate_Pbx_V1_Envelope? { try await PBXServerTests.nextReply(pbx) }
    }

    /// The next frame that is a reply (pushes skipped).
    static func nextReply(_ pbx: PBXTestClient) async throws -> Tollgate_Pbx_V1_Envelope? {
        while let frame = try await pbx.next() { if frame.hasStatus { return frame } }
        return nil
    }

    func withHeldSettlement(_ body: (HeldSettlement) async throws -> Void) async throws {
        let held = HeldJournal()
        let h = try await Harness(journal: held)
        defer { h.task.cancel() }
        try await h.billed8001(balance: 10_000_000)
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            _ = try await pbx.call(Self.authorize("c1"))
            _ = try await pbx.call(Self.answered("c1"))
            held.hold()
            let endedID = try await pbx.send(Self.ended("c1", 1_000))
            let authorizeID = try await pbx.send(Self.authorize("c2"))
            let first = try #require(try await Self.nextReply(pbx))
            try await body(HeldSettlement(pbx: pbx, held: held, engine: h.engine, endedID: endedID,
                                          authorizeID: authorizeID, firstReply: first))
        }
    }

    @Test("a settlement is replied to once committed; the connection's next requests are answered meanwhile")
    func settlementsPipelined() async throws {
        try await withHeldSettlement { s in
            // The authorization sent after the settlement is answered while the settlement waits for its commit:
            // it is not queued behind a disk flush…
            #expect(s.firstReply.correlationID == s.authorizeID && s.firstReply.authorizeReply.decision == .allow)
            #expect(s.held.waitingCount == 1 && !s.engine.isLive(callID: "c1"))
            // …and the settlement's reply, sent first, leaves only once it is durable.
            s.held.release()
            let second = try #require(try await s.nextReply())
            #expect(second.correlationID == s.endedID && second.endedReply.settledNow
                && second.endedReply.costMicros == 20_000)
        }
    }

    @Test("a settlement whose commit fails is answered with an error, not the settlement; later requests still work")
    func failedCommitIsNotAcknowledged() async throws {
        struct DiskGone: Error {}
        try await withHeldSettlement { s in
            #expect(s.firstReply.correlationID == s.authorizeID && s.held.waitingCount == 1)
            s.held.fail(DiskGone())
            let reply = try #require(try await s.nextReply())
            #expect(reply.correlationID == s.endedID && reply.status.code == .unavailable
                && !reply.endedReply.settledNow)
            let next = try #require(try await s.pbx.call(Self.ended("c2", 0)))
            #expect(next.status.code == .unavailable)
        }
    }

    @Test("a denied call and a free call get their decisions")
    func decisions() async throws {
        let h = try await Harness()
        defer { h.task.cancel() }
        try await h.billed8001(balance: 0)
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
        _ = try await pbx.hello()
        let denied = try #require(try await pbx.call(Self.authorize("d1")))
        #expect(denied.authorizeReply.decision == .deny && denied.authorizeReply.denyReason == .insufficientFunds)
        let free = try #require(try await pbx.call(Self.authorize("e1", "8001", "112")))
        #expect(free.authorizeReply.unbilled && free.authorizeReply.grantUnlimited)
        let bad = try #require(try await pbx.call(Self.authorize("x", "8001", "12ab")))
        #expect(bad.status.code == .invalidArgument && bad.status.field == "dialled")
        }
    }

    @Test("bad connections get a status and are closed; a healthy session is unaffected")
    func badConnections() async throws {
        let h = try await Harness()
        defer { h.task.cancel() }
        try await PBXTestClient.connect(port: h.port) { (good: PBXTestClient) async throws in
            _ = try await good.hello()
            try await PBXTestClient.connect(port: h.port) { (wrongSecret: PBXTestClient) async throws in
                #expect(try await wrongSecret.hello(secret: "guess")?.status.code == .unauthenticated)
                #expect(try await wrongSecret.next() == nil)
            }
            try await PBXTestClient.connect(port: h.port) { (early: PBXTestClient) async throws in
                #expect(try await early.call(Self.authorize("c"))?.status.code == .unauthenticated)
                #expect(try await early.next() == nil)
            }
            try await PBXTestClient.connect(port: h.port) { (oversized: PBXTestClient) async throws in
                try await oversized.sendRaw([0x7F, 0xFF, 0xFF, 0xFF])
                #expect(try await oversized.next()?.status.code == .resourceExhausted)
                #expect(try await oversized.next() == nil)
            }
            try await PBXTestClient.connect(port: h.port) { (garbage: PBXTestClient) async throws in
                try await garbage.sendRaw([0, 0, 0, 3, 0xFF, 0xFF, 0xFF])
                #expect(try await garbage.next()?.status.code == .invalidArgument)
                #expect(try await garbage.next() == nil)
            }
            let heartbeat = try #require(try await good.call(.heartbeat(Tollgate_Pbx_V1_HeartbeatRequest())))
            #expect(heartbeat.status.code == .ok && heartbeat.heartbeatReply.serverTimeMs == t0)
        }
    }
}
