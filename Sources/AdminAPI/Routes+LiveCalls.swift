import Administration
import Hummingbird

extension AdminAPI {
    struct HangupRequest: Decodable { var reason: String? }

    func addLiveCallRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.get("/live-calls") { request, _ in
            try Response.json(await operations.liveCalls(extension: request.query("extension")).map(LiveCallView.init))
        }
        api.post("/live-calls/:callId/hangup") { request, context in
            let callID = try context.parameters.require("callId")
            var reason = "operator"
            if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 {
                reason = try await request.decodeJSON(HangupRequest.self).reason ?? reason
            }
            try operations.hangup(callID: callID, reason: reason, by: try context.requireSession())
            return try Response.json(["callId": callID, "status": "hangup sent"], status: .accepted)
        }
    }
}
