import BillingCore
import Hummingbird

extension AdminAPI {
    struct HangupRequest: Decodable { var reason: String? }

    func addLiveCallRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("/live-calls") { request, _ in
            _ = try self.authorize(request, .billing)
            var calls = await self.engine.liveCalls()
            if let number = request.query("extension") { calls = calls.filter { $0.extensionNumber == number } }
            return try Response.json(calls.map(LiveCallView.init))
        }
        api.post("/live-calls/:callId/hangup") { request, context in
            let session = try self.authorize(request, .billing)
            let callID = try context.parameters.require("callId")
            var reason = "operator"
            if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 {
                reason = try await request.decodeJSON(HangupRequest.self).reason ?? reason
            }
            guard reason.utf8.count <= 128 else { throw APIError.invalid("reason must be at most 128 bytes", field: "reason") }
            try self.hangup(callID, reason)
            self.logger.notice("operator hang-up", metadata: ["user": "\(session.user)", "call": "\(callID)"])
            return try Response.json(["callId": callID, "status": "hangup sent"], status: .accepted)
        }
    }
}
