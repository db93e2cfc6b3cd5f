import BillingCore
import Foundation
import PBXWire
import TestSupport
import Testing

@Suite("API → serve → PBX: an operator hang-up over HTTP reaches the PBX's socket", .timeLimit(.minutes(1)))
struct LiveHangupTests {
    @Test("a live call is listed with its running cost, hung up over HTTP, ended by the PBX and settled")
    func operatorHangup() async throws {
        let h = try await APIHarness(pbxServer: true)
        let c = h.client(try await h.billingUser().token)
        try await h.engine.setUpBilled("8001", balance: Money(micros: 1_000_000))
        #expect(try await c.send("POST", "/api/v1/rates", body: json(
            ["prefix": "0", "rate": "0.02", "unit": 1, "extensions": ["8001"]])).status == 201)

        try await CodecPBX.connect(port: try #require(h.pbxPort)) { pbx in
            let hello = try await pbx.call { PBXClientCodec.hello(correlationID: $0, nodeID: "pbx-1", secret: "s3cret", software: "test") }
            #expect(hello?.status?.code == .ok)
            let authorized = try await pbx.call { PBXClientCodec.authorize(correlationID: $0, callID: "c1", extensionNumber: "8001", dialled: "0123") }
            guard case .authorizeReply(allowed: true, _, _, _, _)? = authorized?.body else {
                Issue.record("not allowed: \(String(describing: authorized))")
                return
            }
            #expect(try await pbx.call { PBXClientCodec.answered(correlationID: $0, callID: "c1") }?.status?.code == .ok)
            await h.advance(ms: 3_000)

            let live = try list(try await c.send("GET", "/api/v1/live-calls?extension=8001"))
            #expect(live.count == 1 && live.first?["callId"] as? String == "c1", "\(live)")
            // Units are paid at their start: at 3.000 s the fourth second has just been taken.
            #expect(live.first?["runningCost"] as? String == "0.08", "\(live)")

            let reply = try await c.send("POST", "/api/v1/live-calls/c1/hangup", body: json(["reason": "guest checked out"]))
            #expect(reply.status == 202, "\(reply.text)")
            let push = try #require(try await pbx.push { $0.body == .hangup(callID: "c1", reason: "guest checked out") })
            try await pbx.send(PBXClientCodec.ack(correlationID: push.correlationID))

            let settled = try await pbx.call {
                PBXClientCodec.ended(correlationID: $0, callID: "c1", billableMillis: 3_000, cause: "OPERATOR_HANGUP")
            }
            guard case .endedReply(settledNow: true, billedMillis: 3_000, costMicros: 60_000, balanceAfterMicros: 940_000)? = settled?.body else {
                Issue.record("unexpected settlement: \(String(describing: settled))")
                return
            }
        }
        try await h.ledger.flush()
        #expect(try list(try await c.send("GET", "/api/v1/live-calls")).isEmpty)
        #expect(try object(try await c.send("GET", "/api/v1/extensions/8001"))["balance"] as? String == "0.94")
        let calls = try object(try await c.send("GET", "/api/v1/calls?keyword=8001"))
        let call = try #require((calls["items"] as? [[String: Any]])?.first)
        #expect(call["callId"] as? String == "c1" && call["cost"] as? String == "0.06", "\(call)")
        // A call no PBX owns: NOT_FOUND, nothing pushed.
        #expect(try await c.send("POST", "/api/v1/live-calls/nope/hangup").status == 404)
        try await h.stop()
    }
}
