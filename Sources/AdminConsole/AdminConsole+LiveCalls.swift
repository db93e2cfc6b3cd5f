import Administration
import BillingCore
import Foundation
import Hummingbird
import Metering
import NIOCore
import ServiceLifecycle

extension AdminConsole {
    /// The page lists at most this many calls (the oldest); the count says how many there are.
    static var liveCallsShown: Int { 500 }

    struct LiveRow: Encodable {
        var callId: String
        var callIdPath: String
        var extensionNumber: String
        var dialled: String
        var phase: String
        var answeredAt: String
        var duration: String
        var runningCost: String
        var grantLeft: String
    }

    struct LiveContent {
        var calls: [LiveRow]
        var total: Int
        var shown: Int
        var truncated: Bool
    }

    struct LiveEvent: Encodable {
        var total: Int
        var calls: [LiveRow]
    }

    func addLiveCallRoutes(_ billing: RouterGroup<AdminRequestContext>) {
        billing.get("/live") { request, context in
            let (rows, total) = try await liveRows()
            return try await render("live", title: "Live calls", request, context, section: "/live",
                                    content: LiveContent(calls: rows, total: total, shown: rows.count, truncated: total > rows.count))
        }
        // Server-sent events: the table's rows once a second, for as long as the page is open (the browser
        // reconnects by itself after the hour, or after a restart).
        billing.get("/live/events") { _, _ in
            let body = ResponseBody { writer in
                let time = operations.engine.scheduler.time
                for _ in 0..<3_600 {
                    let (rows, total) = try await liveRows()
                    let json = try JSONEncoder().encode(LiveEvent(total: total, calls: rows))
                    try await writer.write(ByteBuffer(string: "event: calls\ndata: \(String(decoding: json, as: UTF8.self))\n\n"))
                    // Ends the stream when serve shuts down, so a page left open does not hold up the drain.
                    do {
                        try await cancelWhenGracefulShutdown { try await time.sleep(for: .seconds(1)) }
                    } catch {
                        break
                    }
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
        }
        billing.get("/live/:callId/hangup") { request, context in
            let callID = try context.parameters.require("callId")
            guard let call = await operations.liveCalls().first(where: { $0.callID == callID }) else {
                return redirect("/live", "That call has already ended.", error: true)
            }
            return try await render("hangup", title: "Hang up this call?", request, context, section: "/live",
                                    content: try await liveRow(call, now: operations.engine.nowMillis()))
        }
        billing.post("/live/:callId/hangup") { _, context in
            let callID = try context.parameters.require("callId")
            guard let call = await operations.liveCalls().first(where: { $0.callID == callID }) else {
                return redirect("/live", "That call has already ended.", error: true)
            }
            do {
                try operations.hangup(callID: callID, reason: "operator", by: try context.requireSession())
            } catch let error as TollgateError {
                return redirect("/live", "Not hung up: \(error.message)", error: true)
            }
            return redirect("/live", "Hang-up sent to the PBX for the call from \(call.extensionNumber) to \(call.dialled).")
        }
    }

    private func liveRows() async throws -> ([LiveRow], Int) {
        let calls = await operations.liveCalls()
        let now = operations.engine.nowMillis()
        var rows: [LiveRow] = []
        for call in calls.prefix(Self.liveCallsShown) { rows.append(try await liveRow(call, now: now)) }
        return (rows, calls.count)
    }

    private func liveRow(_ call: CallCharging, now: Int64) async throws -> LiveRow {
        let view = LiveCallView(call)
        return LiveRow(
            callId: call.callID, callIdPath: Self.queryEscape(call.callID), extensionNumber: call.extensionNumber,
            dialled: call.dialled, phase: view.phase, answeredAt: call.answeredAt.map { ConsoleFormat.time($0, zone) } ?? "",
            duration: call.answeredAt.map { ConsoleFormat.duration(seconds: max(0, now - $0) / 1000) } ?? "",
            runningCost: try await money(call.charged),
            grantLeft: call.grantDeadline.map { ConsoleFormat.duration(seconds: max(0, $0 - now) / 1000) } ?? "")
    }
}
