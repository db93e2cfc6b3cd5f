public import Journal

/// What a recharge with an idempotency key did: applied now, or found already committed by an earlier attempt.
public struct RechargeOutcome: Sendable, Hashable {
    /// The committed recharge: this attempt's, or the first attempt's when `replayed`.
    public var record: RechargeRecord
    /// True when an earlier attempt with the same key had already recharged, and this one changed nothing.
    public var replayed: Bool

    public init(record: RechargeRecord, replayed: Bool) {
        self.record = record
        self.replayed = replayed
    }
}
