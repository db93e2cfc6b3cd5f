public import BillingCore
import SwiftProtobuf

/// Encodes replies and pushes as frame payloads (domain → wire). Generated types stay inside this target.
public enum WireReplies {
    /// The reply to Authorize.
    public static func authorize(correlationID: UInt64, _ authorization: Authorization) -> [UInt8] {
        var reply = Tollgate_Pbx_V1_AuthorizeReply()
        switch authorization {
        case .denied(let reason):
            reply.decision = .deny
            reply.denyReason = reason.wire
        case .allowed(let rate, let unbilled, let grant):
            reply.decision = .allow
            if let unbilled {
                reply.unbilled = true
                reply.unbilledReason = unbilled.wire
            }
            if let grant { reply.grantMs = UInt64(max(0, grant)) } else { reply.grantUnlimited = true }
            if let rate {
                var summary = Tollgate_Pbx_V1_RateSummary()
                summary.rateID = rate.id
                summary.prefix = rate.prefix
                summary.initialCostMicros = rate.tariff.initialCost.micros
                summary.initialTimeS = UInt32(rate.tariff.initialTime)
                summary.rateMicros = rate.tariff.rate.micros
                summary.unitS = UInt32(rate.tariff.unit)
                reply.rate = summary
            }
        }
        return envelope(correlationID: correlationID, status: .ok, body: .authorizeReply(reply))
    }

    /// The reply to Ended: the settled record, or `nil` for a repeat that changed nothing.
    public static func ended(correlationID: UInt64, settled record: CallRecord?) -> [UInt8] {
        var reply = Tollgate_Pbx_V1_EndedReply()
        if let record {
            reply.settledNow = true
            reply.result = record.result.wire
            reply.billedMs = UInt64(max(0, record.billableMillis))
            reply.costMicros = record.cost.micros
            reply.balanceAfterMicros = record.balanceAfter.micros
        }
        return envelope(correlationID: correlationID, status: .ok, body: .endedReply(reply))
    }

    public static func heartbeat(correlationID: UInt64, nowMillis: Int64) -> [UInt8] {
        var reply = Tollgate_Pbx_V1_HeartbeatReply()
        reply.serverTimeMs = nowMillis
        return envelope(correlationID: correlationID, status: .ok, body: .heartbeatReply(reply))
    }

    public static func resync(correlationID: UInt64, adopted: [String], unknown: [String]) -> [UInt8] {
        var reply = Tollgate_Pbx_V1_ResyncReply()
        reply.adoptedCallIds = adopted
        reply.unknownCallIds = unknown
        return envelope(correlationID: correlationID, status: .ok, body: .resyncReply(reply))
    }

    /// A reply carrying only a status (Answered, ExtensionSync, errors).
    public static func ack(correlationID: UInt64, status: WireStatus) -> [UInt8] {
        envelope(correlationID: correlationID, status: status, body: .ack(Tollgate_Pbx_V1_Ack()))
    }

    /// The push for an engine event.
    public static func push(_ event: BillingEvent, correlationID: UInt64, nowMillis: Int64) -> [UInt8] {
        switch event {
        case .cutoff(let callID, _, let boundary, let reason):
            var cutoff = Tollgate_Pbx_V1_Cutoff()
            cutoff.callID = callID
            cutoff.reason = reason.wire
            cutoff.boundaryMs = boundary
            cutoff.serverTimeMs = nowMillis
            return envelope(correlationID: correlationID, status: nil, body: .cutoff(cutoff))
        case .warning(let callID, _, let cutoffAt, let secondsLeft):
            var warning = Tollgate_Pbx_V1_Warning()
            warning.callID = callID
            warning.cutoffAtMs = cutoffAt
            warning.secondsLeft = UInt32(clamping: secondsLeft)
            return envelope(correlationID: correlationID, status: nil, body: .warning(warning))
        case .grantRenewed(let callID, _, let deadline):
            var renewal = Tollgate_Pbx_V1_GrantRenewal()
            renewal.callID = callID
            if let deadline { renewal.deadlineMs = deadline } else { renewal.unlimited = true }
            renewal.serverTimeMs = nowMillis
            return envelope(correlationID: correlationID, status: nil, body: .grantRenewal(renewal))
        }
    }

    /// The push telling the PBX an operator hung the call up.
    public static func hangup(callID: String, reason: String, correlationID: UInt64) -> [UInt8] {
        var hangup = Tollgate_Pbx_V1_Hangup()
        hangup.callID = callID
        hangup.reason = reason
        return envelope(correlationID: correlationID, status: nil, body: .hangup(hangup))
    }

    static func envelope(correlationID: UInt64, status: WireStatus?, body: Tollgate_Pbx_V1_Envelope.OneOf_Body)
        -> [UInt8]
    {
        var envelope = Tollgate_Pbx_V1_Envelope()
        envelope.correlationID = correlationID
        if let status { envelope.status = status.proto }
        envelope.body = body
        // Serializing a message built here cannot fail: every field is set from valid values.
        return (try? envelope.serializedBytes()) ?? []
    }
}

extension DenyReason {
    var wire: Tollgate_Pbx_V1_DenyReason {
        switch self {
        case .locked: .locked
        case .noRate: .noRate
        case .insufficientFunds: .insufficientFunds
        }
    }
}

extension UnbilledReason {
    var wire: Tollgate_Pbx_V1_UnbilledReason {
        switch self {
        case .billingInactive: .billingInactive
        case .freeNumber: .freeNumber
        case .billingOff: .billingOff
        case .noRateAllowed: .noRateAllowed
        }
    }
}

extension CallResult {
    var wire: Tollgate_Pbx_V1_CallResult {
        switch self {
        case .completed: .completed
        case .cutoff: .cutoff
        case .unanswered: .unanswered
        case .denied: .denied
        case .unbilled: .unbilled
        case .recovered: .recovered
        }
    }
}
