/// When each live call of one extension will be cut if no money arrives, found by playing the extension's
/// future charges forward in design.md §5 order against its available money.
///
/// Warnings and grants come from it. Charges that happen as projected leave it valid; anything else (an
/// answer, an end, a recharge, a settings change, a cut) invalidates it. It looks ahead far enough to cover
/// a grant and a warning, and is recomputed when time nears the end of what it covered. A call alone on its
/// balance (the common case) gets its cutoff in closed form instead.
struct CutoffProjection: Sendable {
    /// At most this many future charges are played per recomputation; past it, the horizon shrinks to
    /// where the play stopped, so the projection is never wrong, only shorter.
    static let stepLimit = 100_000

    private(set) var horizon: Int64 = .min
    private var stale = true

    mutating func invalidate() { stale = true }

    /// How far ahead the projection must reach to decide grants and warnings.
    static func lookahead(_ policy: BillingPolicy) -> Int64 { policy.grantValidityMillis + policy.warningLeadMillis }

    /// When the projection must be recomputed because time nears its horizon.
    func refreshAt(policy: BillingPolicy) -> Int64? {
        horizon == .max ? nil : horizon - Self.lookahead(policy)
    }

    /// Recomputes each charging call's `projectedCutoff` when anything changed or time nears the horizon.
    mutating func refresh(calls: inout [CallCharging], available: Money, now: Int64, policy: BillingPolicy) {
        let lookahead = Self.lookahead(policy)
        guard stale || now &+ lookahead >= horizon else { return }
        stale = false
        let chargingIndices = calls.indices.filter { calls[$0].isCharging }
        if chargingIndices.count == 1, let index = chargingIndices.first,
            let cutoff = Self.soleCallCutoff(calls[index], available: available)
        {
            // One call alone on its balance: its cutoff has a closed form, valid until something changes.
            calls[index].projectedCutoff = cutoff == .max ? nil : cutoff
            horizon = .max
            return
        }
        let result = Self.project(calls: calls, available: available, until: now &+ 2 * lookahead,
                                  stepLimit: Self.stepLimit)
        for index in calls.indices where calls[index].isCharging {
            calls[index].projectedCutoff = result.cutoffs[calls[index].callID]
        }
        horizon = result.horizon
    }

    /// The cutoff of a call that is the only one charging on its balance: every further charge is one `rate`,
    /// so `available / rate` more are affordable. Nil when the closed form does not apply (no charge taken
    /// yet); `Int64.max` when the call is never cut.
    static func soleCallCutoff(_ call: CallCharging, available: Money) -> Int64? {
        guard call.chargesMade > 0, let answeredAt = call.answeredAt, let tariff = call.rate?.tariff else { return nil }
        guard tariff.hasRecurringCharges else { return .max }
        let affordable = max(0, available.micros) / tariff.rate.micros
        let (index, o1) = call.chargesMade.addingReportingOverflow(affordable)
        let offset = o1 ? Int64.max : tariff.chargeOffset(index: index)
        let (at, o2) = answeredAt.addingReportingOverflow(offset)
        return offset == .max || o2 ? .max : at
    }

    /// Plays the charges of `calls` from their next due instants up to `until`.
    static func project(calls: some Sequence<CallCharging>, available: Money, until: Int64, stepLimit: Int)
        -> (cutoffs: [String: Int64], horizon: Int64)
    {
        if let owed = owed(by: calls, until: until), owed <= available.micros { return ([:], until) }
        return play(calls: calls, available: available, until: until, stepLimit: stepLimit)
    }

    /// The projection charge by charge, in due order.
    static func play(calls: some Sequence<CallCharging>, available: Money, until: Int64, stepLimit: Int)
        -> (cutoffs: [String: Int64], horizon: Int64)
    {
        var pending: [Pending] = []
        for call in calls {
            guard let at = call.nextChargeAt, at <= until, let answeredAt = call.answeredAt,
                let tariff = call.rate?.tariff
            else { continue }
            pending.append(Pending(at: at, answeredAt: answeredAt, callID: call.callID, index: call.chargesMade,
                                   tariff: tariff))
        }
        pending.sort(by: >)
        var left = available.micros
        var cutoffs: [String: Int64] = [:]
        var steps = 0
        while var next = pending.popLast() {
            steps += 1
            if steps > stepLimit { return (cutoffs, next.at - 1) }
            let amount = next.tariff.chargeAmount(index: next.index).micros
            guard left >= amount else {
                cutoffs[next.callID] = next.at
                continue
            }
            left -= amount
            next.index += 1
            guard next.tariff.hasRecurringCharges else { continue }
            let offset = next.tariff.chargeOffset(index: next.index)
            let (at, overflow) = next.answeredAt.addingReportingOverflow(offset)
            guard !overflow, offset != .max, at <= until else { continue }
            next.at = at
            let position = pending.partitioningIndex { $0 < next }
            pending.insert(next, at: position)
        }
        return (cutoffs, until)
    }

    /// What every charge of `calls` falling due by `until` adds up to, in closed form; nil on overflow. When the
    /// money covers it, no call is cut before `until` whatever the order: the well-funded extension (the
    /// common case) is decided without playing thousands of charges one by one.
    static func owed(by calls: some Sequence<CallCharging>, until: Int64) -> Int64? {
        var total: Int64 = 0
        for call in calls {
            guard let at = call.nextChargeAt, at <= until, let answeredAt = call.answeredAt,
                let tariff = call.rate?.tariff
            else { continue }
            let (span, o1) = until.subtractingReportingOverflow(answeredAt)
            guard !o1, span < .max else { return nil }
            let due = tariff.hasRecurringCharges ? tariff.chargesOwed(billableMillis: span + 1) : 1
            let count = due - call.chargesMade
            guard count > 0 else { continue }
            var amount: Int64 = 0
            var recurring = count
            if call.chargesMade == 0 {
                amount = tariff.chargeAmount(index: 0).micros
                recurring -= 1
            }
            let (more, o2) = recurring.multipliedReportingOverflow(by: tariff.rate.micros)
            let (callTotal, o3) = amount.addingReportingOverflow(more)
            let (sum, o4) = total.addingReportingOverflow(callTotal)
            guard !o2, !o3, !o4 else { return nil }
            total = sum
        }
        return total
    }

    struct Pending: Comparable {
        var at: Int64
        let answeredAt: Int64
        let callID: String
        var index: Int64
        let tariff: Tariff

        static func < (lhs: Pending, rhs: Pending) -> Bool {
            (lhs.at, lhs.answeredAt, lhs.callID) < (rhs.at, rhs.answeredAt, rhs.callID)
        }

        static func == (lhs: Pending, rhs: Pending) -> Bool {
            (lhs.at, lhs.answeredAt, lhs.callID) == (rhs.at, rhs.answeredAt, rhs.callID)
        }
    }
}
