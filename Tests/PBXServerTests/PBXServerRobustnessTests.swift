import BillingCore
import Metering
import NIOCore
@testable import PBXServer
@testable import PBXWire
import TestSupport
import Testing

@Suite("PBX server: bad input, floods, reconnects", .timeLimit(.minutes(1)))
struct PBXServerRobustnessTests {
    typealias H = PBXServerTests.Harness

    @Test("half a frame and then silence: closed after the idle timeout (3 heartbeat intervals)")
    func halfFrameIdle() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            await h.advance(ms: 29_999)
            // Still open just before the timeout; a whole frame restarts the count.
            #expect(try await pbx.call(.heartbeat(Tollgate_Pbx_V1_HeartbeatRequest()))?.status.code == .ok)
            try await pbx.sendRaw([0, 0])
            await h.advance(ms: 30_001)
            // Closed: an orderly end or a reset (the server dropped the unread half frame); either way no reply.
            #expect((try? await pbx.next()) == nil)
        }
    }

    @Test("a bad End names its field by one name whichever layer refuses it (the decoder, the engine)")
    func oneFieldName() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            // Beyond 64 signed bits: refused as it is decoded. Beyond 31 days: refused by the engine.
            for billable: UInt64 in [UInt64.max, 1_000_000_000_000_000] {
                let reply = try #require(try await pbx.call(PBXServerTests.ended("c", billable)))
                #expect(reply.status.code == .invalidArgument && reply.status.field == "billableMs")
            }
        }
    }

    @Test("an extension's number is named as each message carries it: extensionNumber in an Authorize, number in a sync")
    func extensionNumberField() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            let authorize = try #require(try await pbx.call(PBXServerTests.authorize("c", "12ab")))
            #expect(authorize.status.code == .invalidArgument && authorize.status.field == "extensionNumber")
            var sync = Tollgate_Pbx_V1_ExtensionSyncRequest()
            var bad = Tollgate_Pbx_V1_ExtensionInfo()
            bad.number = "12ab"
            sync.extensions = [bad]
            let synced = try #require(try await pbx.call(.extensionSync(sync)))
            #expect(synced.status.code == .invalidArgument && synced.status.field == "number")
        }
        #expect(await h.engine.extensionAccounts().isEmpty)
    }

    @Test("absurd values and wrong messages get a status; the session stays usable")
    func absurdValues() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            let longNumber = try #require(try await pbx.call(PBXServerTests.authorize("c", "8001", String(repeating: "9", count: 10_240))))
            #expect(longNumber.status.code == .invalidArgument && longNumber.status.field == "dialled")
            let longID = try #require(try await pbx.call(PBXServerTests.authorize(String(repeating: "x", count: 200))))
            #expect(longID.status.code == .invalidArgument && longID.status.field == "callId")
            let forever = try #require(try await pbx.call(PBXServerTests.ended("c", 1_000_000_000_000_000)))
            #expect(forever.status.code == .invalidArgument)
            #expect(try await pbx.call(PBXServerTests.answered("unknown"))?.status.code == .notFound)
            #expect(try await pbx.call(.cutoff(Tollgate_Pbx_V1_Cutoff()))?.status.code == .invalidArgument)
            var sync = Tollgate_Pbx_V1_ExtensionSyncRequest()
            var bad = Tollgate_Pbx_V1_ExtensionInfo()
            bad.number = "12ab"
            sync.extensions = [bad]
            #expect(try await pbx.call(.extensionSync(sync))?.status.code == .invalidArgument)
            #expect(try await pbx.call(.heartbeat(Tollgate_Pbx_V1_HeartbeatRequest()))?.status.code == .ok)
        }
        #expect(await h.engine.extensionAccounts().isEmpty)
    }

    @Test("a flood of 5,000 pipelined requests is answered in order")
    func flood() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            var sent: [UInt64] = []
            for _ in 0..<5_000 { sent.append(try await pbx.send(.heartbeat(Tollgate_Pbx_V1_HeartbeatRequest()))) }
            var received: [UInt64] = []
            while received.count < sent.count, let reply = try await pbx.next() { received.append(reply.correlationID) }
            #expect(received == sent)
        }
    }

    @Test("after a reconnect, a resync adopts the live call and its pushes go to the new connection")
    func reconnectResync() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await h.billed8001(balance: 60_000)
        try await PBXTestClient.connect(port: h.port) { (first: PBXTestClient) async throws in
            _ = try await first.hello()
            _ = try await first.call(PBXServerTests.authorize("c1"))
            _ = try await first.call(PBXServerTests.answered("c1"))
        }
        try await PBXTestClient.connect(port: h.port) { (second: PBXTestClient) async throws in
            _ = try await second.hello()
            var resync = Tollgate_Pbx_V1_ResyncRequest()
            for id in ["c1", "c9"] {
                var call = Tollgate_Pbx_V1_LiveCall()
                call.callID = id
                call.extensionNumber = "8001"
                call.answered = true
                resync.calls.append(call)
            }
            let reply = try #require(try await second.call(.resync(resync)))
            #expect(reply.resyncReply.adoptedCallIds == ["c1"] && reply.resyncReply.unknownCallIds == ["c9"])
            await h.advance(ms: 3_500)
            let cutoff = try #require(try await second.push { $0.cutoff.callID == "c1" })
            #expect(cutoff.cutoff.boundaryMs == t0 + 3_000)
        }
    }

    @Test("after a restart, a resync authorizes again a call the restart lost, billed from the PBX's answer")
    func lostCallResync() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        // A restart with nothing stored: the call's authorization and answer were not committed.
        h.engine.restore([])
        try await h.billed8001(balance: 60_000)
        await h.advance(ms: 5_000)
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            var resync = Tollgate_Pbx_V1_ResyncRequest()
            for (id, number) in [("lost", "8001"), ("stranger", "8009")] {
                var call = Tollgate_Pbx_V1_LiveCall()
                call.callID = id
                call.extensionNumber = number
                call.dialled = "0123"
                call.answered = true
                call.answeredMsAgo = 1_500
                resync.calls.append(call)
            }
            let reply = try #require(try await pbx.call(.resync(resync)))
            #expect(reply.resyncReply.adoptedCallIds == ["lost"] && reply.resyncReply.unknownCallIds == ["stranger"])
            // Answered at 3.5 s: 0.06 pays the units from 3.5, 4.5 and 5.5 s; the one from 6.5 s is not paid.
            await h.advance(ms: 2_000)
            let cutoff = try #require(try await pbx.push { $0.cutoff.callID == "lost" })
            #expect(cutoff.cutoff.boundaryMs == t0 + 6_500)
        }
    }

    @Test("after a restart, an End sent again for a call the restart lost whole is settled from the call it names")
    func lostCallEnd() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        // A restart with nothing stored: the calls ended while the server was down, before they were stored.
        h.engine.restore([])
        try await h.billed8001(balance: 1_000_000)
        await h.advance(ms: 5_000)
        func resent(_ id: String, _ ms: UInt64, _ ext: String = "8001") -> Tollgate_Pbx_V1_Envelope.OneOf_Body {
            guard case .ended(var request) = PBXServerTests.ended(id, ms) else { preconditionFailure() }
            request.extensionNumber = ext
            request.dialled = "0123"
            return .ended(request)
        }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            // Without the call's extension and number it stays unknown, as before.
            #expect(try await pbx.call(PBXServerTests.ended("gone", 3_000))?.status.code == .notFound)
            // With them: answered 3 s ago; 0.02 a second, each unit paid at its start: 0.06.
            let settled = try #require(try await pbx.call(resent("gone", 3_000)))
            #expect(settled.status.code == .ok && settled.endedReply.settledNow)
            #expect(settled.endedReply.result == .completed && settled.endedReply.costMicros == 60_000)
            #expect(settled.endedReply.billedMs == 3_000 && settled.endedReply.balanceAfterMicros == 940_000)
            // Sent once more: already settled, nothing changes.
            let again = try #require(try await pbx.call(resent("gone", 3_000)))
            #expect(again.status.code == .ok && !again.endedReply.settledNow)
            // Never answered: in the call log, at no cost.
            let unanswered = try #require(try await pbx.call(resent("rang", 0)))
            #expect(unanswered.endedReply.result == .unanswered && unanswered.endedReply.costMicros == 0)
            // An extension the server does not know: unknown.
            #expect(try await pbx.call(resent("stranger", 2_000, "8009"))?.status.code == .notFound)
        }
        #expect(await h.engine.extensionAccount(number: "8001")?.balance == Money(micros: 940_000))
        #expect(h.journal.settlements.map(\.callID) == ["gone", "rang"])
    }

    @Test("an End naming its call is an ordinary End for a call the server knows, and outside a restart's grace")
    func endNamingKnownCall() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await h.billed8001(balance: 1_000_000)
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            _ = try await pbx.call(PBXServerTests.authorize("c1"))
            _ = try await pbx.call(PBXServerTests.answered("c1"))
            await h.advance(ms: 1_500)
            guard case .ended(var request) = PBXServerTests.ended("c1", 1_500) else { preconditionFailure() }
            request.extensionNumber = "8001"
            request.dialled = "0123"
            let reply = try #require(try await pbx.call(.ended(request)))
            #expect(reply.endedReply.settledNow && reply.endedReply.costMicros == 40_000)
            // Not restarted: a call the server never knew stays unknown, whatever the End says of it.
            request.callID = "never"
            #expect(try await pbx.call(.ended(request))?.status.code == .notFound)
        }
        #expect(h.journal.settlements.map(\.callID) == ["c1"])
    }

    @Test("a PBX that drops and never comes back: its call is settled after the grace, billed to its last grant")
    func abandonedCall() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await h.billed8001(balance: 10_000_000)
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            _ = try await pbx.call(PBXServerTests.authorize("c1"))
            _ = try await pbx.call(PBXServerTests.answered("c1"))
        }
        // The server notices the drop and starts the grace period on the engine's clock.
        for await _ in h.server.graceStarted { break }
        // The grace task may not be asleep yet when the clock moves: keep moving it until the settlement lands.
        await h.advance(ms: 120_000)
        var spins = 0
        while h.journal.settlements.isEmpty, spins < 200 {
            await h.advance(ms: 1)
            for _ in 0..<1_000 { await Task.yield() }
            spins += 1
        }
        let record = try #require(h.journal.settlements.first)
        #expect(record.callID == "c1" && record.result == .recovered && record.reason == "PBX_DISCONNECTED")
        // The PBX's grant at the drop ran to 60 s; the engine's later renewals never reached it.
        #expect(record.billableMillis == 60_000 && record.cost == Money(micros: 1_200_000))
        #expect(await h.engine.extensionAccount(number: "8001")?.balance == Money(micros: 8_800_000))
        #expect(!h.engine.isLive(callID: "c1"))
    }

    @Test("an operator hang-up is pushed to the PBX owning the call; unknown calls are refused")
    func operatorHangup() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await h.billed8001(balance: 10_000_000)
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            _ = try await pbx.call(PBXServerTests.authorize("c1"))
            _ = try await pbx.call(PBXServerTests.answered("c1"))
            try h.server.hangup(callID: "c1", reason: "operator")
            let push = try #require(try await pbx.push { $0.hangup.callID == "c1" })
            #expect(push.hangup.reason == "operator")
            #expect(throws: TollgateError.self) { try h.server.hangup(callID: "nope", reason: "x") }
        }
    }

    @Test("a PBX that stops reading: its pushes back up to the bound, then it is disconnected; others are unharmed")
    func stopsReading() async throws {
        let h = try await H(maxQueuedPushes: 8)
        defer { h.task.cancel() }
        try await h.billed8001(balance: 10_000_000)
        try await PBXTestClient.connect(port: h.port, receiveBufferBytes: 4096) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            _ = try await pbx.call(PBXServerTests.authorize("c1"))
            _ = try await pbx.call(PBXServerTests.answered("c1"))
            // From here on the PBX reads nothing: NIO stops reading its socket, the kernel buffers fill, the
            // server's writer blocks and its push queue reaches the bound. Bounded: 2,000,000 pushes at most.
            var refusal: TollgateError?
            var pushed = 0
            for attempt in 1...2_000_000 {
                do throws(TollgateError) {
                    try h.server.hangup(callID: "c1", reason: "operator")
                } catch {
                    refusal = error
                    pushed = attempt - 1
                    break
                }
                // While the socket takes them, the writer drains the queue; once it blocks, the queue fills.
                let connection = try #require(h.engine.route(of: "c1") as? PBXConnection)
                for _ in 0..<1_000 where connection.queued() > 0 { await Task.yield() }
            }
            print("DEBUG pushed", pushed)
            #expect(refusal?.code == .unavailable)
            // Far more than the queue's bound went out before the socket backed up.
            #expect(pushed > 8 * 10)
            // The connection was closed: reading now drains what was buffered and then ends, possibly in the
            // middle of a frame (the close can cut a write the PBX never made room for).
            var drained = 0
            do {
                while try await pbx.next() != nil { drained += 1 }
            } catch let error as FrameError {
                guard case .truncated = error else { throw error }
            }
            print("DEBUG drained", drained)
            #expect(drained > 8)
        }
        // Another PBX is served as usual, and the call waits for a resync rather than being lost.
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            #expect(try await pbx.hello()?.status.code == .ok)
            #expect(try await pbx.call(.heartbeat(Tollgate_Pbx_V1_HeartbeatRequest()))?.status.code == .ok)
        }
        #expect(h.engine.isLive(callID: "c1"))
    }

    @Test("a client that closes in the middle of a frame changes nothing and harms no one")
    func closedMidFrame() async throws {
        let h = try await H()
        defer { h.task.cancel() }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            _ = try await pbx.hello()
            // The first bytes of a 200-byte Authorize frame, then the connection closes.
            try await pbx.sendRaw([0, 0, 0, 200, 0x08, 0x01, 0x62])
        }
        try await PBXTestClient.connect(port: h.port) { (pbx: PBXTestClient) async throws in
            #expect(try await pbx.hello()?.status.code == .ok)
        }
        #expect(await h.engine.extensionAccounts().isEmpty)
    }
}
