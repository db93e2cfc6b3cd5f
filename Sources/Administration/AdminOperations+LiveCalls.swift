package import BillingCore
import Journal
import Metering

extension AdminOperations {
    /// Calls in progress, oldest first; only one extension's with `extensionNumber`.
    package func liveCalls(extension extensionNumber: String? = nil) async -> [CallCharging] {
        let calls = await engine.liveCalls()
        guard let extensionNumber else { return calls }
        return calls.filter { $0.extensionNumber == extensionNumber }
    }

    /// Pushes an operator hang-up to the PBX that owns the call.
    package func hangup(callID: String, reason: String, by session: AdminSession) throws {
        guard reason.utf8.count <= 128 else { throw APIError.invalid("reason must be at most 128 bytes", field: "reason") }
        let number = engine.extensionNumber(ofCall: callID) ?? ""
        try hangupPush(callID, reason)
        logger.notice("operator hang-up", metadata: .fields([
            .user: "\(session.user)", .callID: "\(callID)", .extensionNumber: "\(number)",
        ]))
    }
}
