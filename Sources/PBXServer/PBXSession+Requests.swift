import BillingCore
import Journal
import Metering
import PBXWire

extension PBXSession {
    /// Carries out one request of an established session on the engine.
    func dispatch(_ request: PBXRequest, correlationID: UInt64, on route: PBXConnection) async -> Output? {
        do {
            switch request {
            case .authorize(let callID, let number, let dialled):
                let decision = try await engine.authorize(callID: callID, extensionNumber: number, dialled: dialled,
                                                          route: route)
                return .reply(WireReplies.authorize(correlationID: correlationID, decision))
            case .answered(let callID):
                try await engine.answered(callID: callID)
                return .reply(WireReplies.ack(correlationID: correlationID, status: .ok))
            case .ended(let callID, let billable, let cause, let lost):
                // Settled in memory now, acknowledged once durable: the connection's next requests go on
                // meanwhile, so its settlements share group commits. Known, lost and unknown calls are the
                // engine's decision.
                let pending = try await engine.endedWithoutWaiting(callID: callID, billableMillis: billable,
                                                                   cause: cause, lost: lost)
                // Encoded now: the reply then holds no call record while it waits.
                let record: CallRecord? = if case .settled(let record, _) = pending.outcome { record } else { nil }
                return .replyAfterCommit(DeferredReply(
                    payload: WireReplies.ended(correlationID: correlationID, settled: record),
                    commit: pending.commit, correlationID: correlationID))
            case .extensionSync(let extensions):
                guard extensions.count <= 10_000 else {
                    throw TollgateError(.invalidArgument, "at most 10,000 extensions per sync", field: "extensions")
                }
                for item in extensions {
                    try await engine.ensureExtension(number: item.number,
                                                     userName: item.userName.isEmpty ? nil : item.userName)
                }
                return .reply(WireReplies.ack(correlationID: correlationID, status: .ok))
            case .heartbeat:
                return .reply(WireReplies.heartbeat(correlationID: correlationID, nowMillis: engine.nowMillis()))
            case .resync(let calls):
                guard calls.count <= 100_000 else {
                    throw TollgateError(.invalidArgument, "at most 100,000 calls per resync", field: "calls")
                }
                let outcome = await engine.resync(calls, route: route)
                logger.info("resynced calls", metadata: .fields([
                    .claimed: "\(calls.count)", .adopted: "\(outcome.adopted.count)",
                    .authorizedAgain: "\(outcome.authorizedAgain)", .unknown: "\(outcome.unknown.count)",
                ]))
                return .reply(WireReplies.resync(correlationID: correlationID, adopted: outcome.adopted,
                                                 unknown: outcome.unknown))
            case .pushAcknowledged:
                return nil
            }
        } catch var error as TollgateError {
            error.field = error.field.map(request.wireField)
            return .reply(DeferredReply.errorReply(error, correlationID: correlationID, logger: logger))
        } catch {
            return .reply(DeferredReply.errorReply(error, correlationID: correlationID, logger: logger))
        }
    }
}
