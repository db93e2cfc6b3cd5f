/// How a call ended, as the call log shows it.
public enum CallResult: String, Sendable, Hashable, Codable, CaseIterable {
    /// Answered, billed, ended by a party.
    case completed
    /// Answered, billed, cut when the money ran out.
    case cutoff
    /// Never answered; cost 0.
    case unanswered
    /// Refused at authorization; cost 0.
    case denied
    /// Allowed without billing (free number, billing off, …); cost 0.
    case unbilled
    /// Settled by the engine from its last checkpoint because no PBX claimed it after a restart.
    case recovered
}

/// The rate terms a call was billed with, snapshotted at authorization.
public struct RateSnapshot: Sendable, Hashable, Codable {
    public var rateID: Int64
    public var prefix: String
    public var tariff: Tariff

    public init(rateID: Int64, prefix: String, tariff: Tariff) {
        self.rateID = rateID
        self.prefix = prefix
        self.tariff = tariff
    }

    public init(_ rate: Rate) {
        self.init(rateID: rate.id, prefix: rate.prefix, tariff: rate.tariff)
    }
}

/// A call detail record: one per call id, written once when the call is settled or refused.
public struct CallRecord: Sendable, Hashable, Codable {
    public var callID: String
    public var extensionNumber: String
    public var userName: String
    public var dialled: String
    public var rate: RateSnapshot?
    /// Engine times in ms since the Unix epoch.
    public var authorizedAt: Int64
    public var answeredAt: Int64?
    public var endedAt: Int64
    /// The duration the call was billed for, after the settlement caps.
    public var billableMillis: Int64
    /// `cost(billableMillis)`: what the call finally cost.
    public var cost: Money
    /// What metering had taken when the call ended; `charged - cost` was refunded.
    public var charged: Money
    public var result: CallResult
    /// A deny or unbilled reason, the PBX's hang-up cause, or the cutoff reason.
    public var reason: String
    /// The extension's balance right after settlement.
    public var balanceAfter: Money

    public init(
        callID: String, extensionNumber: String, userName: String, dialled: String, rate: RateSnapshot?,
        authorizedAt: Int64, answeredAt: Int64?, endedAt: Int64, billableMillis: Int64, cost: Money,
        charged: Money, result: CallResult, reason: String, balanceAfter: Money
    ) {
        self.callID = callID
        self.extensionNumber = extensionNumber
        self.userName = userName
        self.dialled = dialled
        self.rate = rate
        self.authorizedAt = authorizedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.billableMillis = billableMillis
        self.cost = cost
        self.charged = charged
        self.result = result
        self.reason = reason
        self.balanceAfter = balanceAfter
    }

    /// Money returned to the balance at settlement (negative when settlement took more).
    public var refund: Money { Money(micros: charged.micros - cost.micros) }
}
