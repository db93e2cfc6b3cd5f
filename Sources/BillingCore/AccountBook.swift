/// One extension's money and live calls: the rules of design.md §3, §6–§9 as an I/O-free value.
///
/// Every change goes through a `mutating` method that returns the events it causes (cutoffs, warnings,
/// grant renewals, settlements). The metering actor owns one book per extension, so all of an extension's
/// calls share one balance and are charged in one deterministic order: by due instant, then answer time,
/// then call id.
public struct AccountBook: Sendable {
    public private(set) var account: ExtensionAccount
    /// Live calls: authorized, answered or cut but not yet ended, in the order they were authorized. An array,
    /// not a dictionary: extensions rarely hold more than a few calls, and one call in a dictionary costs
    /// twice the memory.
    public private(set) var calls: [CallCharging]
    /// Increases with every change a checkpoint must carry: everything except a paid charge. Charges between
    /// two such changes follow from the state after the first and the tariff alone, so recovery re-derives
    /// them (``advance(to:policy:)`` up to the instant the ledger last knew the engine alive) instead of the
    /// ledger writing every tick of every call.
    public private(set) var revision: UInt64 = 0
    private var recentlySettled: [String] = []
    /// The latest instant `advance` ran at; wake-ups at or before it have been handled.
    private var advancedTo: Int64 = .min
    var projection = CutoffProjection()

    static let recentlySettledLimit = 16

    public init(account: ExtensionAccount, calls: [CallCharging] = []) {
        self.account = account
        var seen: Set<String> = []
        self.calls = calls.filter { seen.insert($0.callID).inserted }
    }

    /// The live call with this id.
    public func call(_ id: String) -> CallCharging? { index(of: id).map { calls[$0] } }

    private func index(of id: String) -> Int? { calls.firstIndex { $0.callID == id } }

    /// Whether the live call `id` was ever carried by a checkpoint (``CallCharging/stored``); nil when there is
    /// no such call.
    public func isStored(_ id: String) -> Bool? {
        calls.withElements { calls, count in (0..<count).first { calls[$0].callID == id }.map { calls[$0].stored } }
    }

    /// The balance plus what live calls have taken so far: what the ledger's postings add up to.
    public var ledgerBalance: Money {
        Money(micros: calls.reduce(account.balance.micros) { $0 &+ $1.charged.micros })
    }

    // MARK: Authorization

    /// The decision of design.md §6 for this account, without changing anything.
    public func decide(_ request: CallRequest, policy: BillingPolicy, rates: RateTable) -> Authorization {
        if !policy.billingActive { return .allowed(rate: nil, unbilled: .billingInactive, grantMillis: nil) }
        if policy.freeNumbers.contains(request.dialled) {
            return .allowed(rate: nil, unbilled: .freeNumber, grantMillis: nil)
        }
        if !account.billingEnabled { return .allowed(rate: nil, unbilled: .billingOff, grantMillis: nil) }
        if account.status == .locked { return .denied(.locked) }
        guard let rate = rates.select(
            extension: account.number, number: request.dialled, secondOfDay: request.secondOfDay)
        else {
            return policy.noRatePolicy == .allowUnbilled
                ? .allowed(rate: nil, unbilled: .noRateAllowed, grantMillis: nil) : .denied(.noRate)
        }
        guard account.available >= rate.tariff.chargeAmount(index: 0) else { return .denied(.insufficientFunds) }
        return .allowed(rate: rate, unbilled: nil, grantMillis: nil)
    }

    /// Authorizes a call and, when allowed, registers it as live with its rate snapshot and grant.
    ///
    /// A repeated request for a live call id answers as the first did and registers nothing new.
    public mutating func authorize(_ request: CallRequest, policy: BillingPolicy, rates: RateTable)
        -> Authorization
    {
        if let index = index(of: request.callID) {
            let live = calls[index]
            var grant: Int64?
            if live.isBilled {
                let (millis, capped) = grantMillis(for: live, at: request.at, policy: policy)
                // A repeated reply's grant is the one the PBX holds now.
                calls[index].holdAuthorizedGrant(millis, cappedByMoney: capped)
                grant = millis
            }
            return .allowed(rate: live.rate.flatMap { rates.rates[$0.rateID] }, unbilled: live.unbilledReason,
                            grantMillis: grant)
        }
        let decision = decide(request, policy: policy, rates: rates)
        guard case .allowed(let rate, let unbilled, _) = decision else { return decision }
        let call = CallCharging(
            callID: request.callID, extensionNumber: account.number, dialled: request.dialled,
            rate: rate.map(RateSnapshot.init), unbilledReason: unbilled, authorizedAt: request.at)
        // No revision: a new call waits for its extension's next checkpoint, at the latest once it has rung
        // for ``CallCharging/ringingStoreDelayMillis`` (`advance` then asks for one).
        calls.append(call)
        guard rate != nil else { return decision }
        let (grant, capped) = grantMillis(for: call, at: request.at, policy: policy)
        calls[calls.count - 1].holdAuthorizedGrant(grant, cappedByMoney: capped)
        return .allowed(rate: rate, unbilled: nil, grantMillis: grant)
    }

    /// True when `callID` named one of this extension's last settled calls (``recentlySettledLimit``): a new
    /// authorization with it is a duplicated request, however long ago the engine's own memory of ids let go.
    public func settledRecently(_ callID: String) -> Bool { recentlySettled.contains(callID) }

    /// How long after answer the money buys for `call` if it were answered at `at`, sharing the balance with
    /// the live calls, capped by the grant validity; and whether the money, not the validity, capped it.
    func grantMillis(for call: CallCharging, at: Int64, policy: BillingPolicy)
        -> (millis: Int64, cappedByMoney: Bool)
    {
        var hypothetical = call
        if !hypothetical.isAnswered { _ = hypothetical.answer(at: at) }
        let horizon = at &+ policy.grantValidityMillis
        var others = calls
        if let index = index(of: call.callID) { others[index] = hypothetical } else { others.append(hypothetical) }
        let cutoffs = CutoffProjection.project(
            calls: others, available: account.available, until: horizon, stepLimit: CutoffProjection.stepLimit)
        let answeredAt = hypothetical.answeredAt ?? at
        let end = cutoffs.cutoffs[call.callID].map { min($0, horizon) } ?? horizon
        // As the renewals judge it (`refreshGrantsAndWarnings`): capped when the deadline is the cutoff.
        return (max(0, end - answeredAt), cutoffs.cutoffs[call.callID] == end)
    }

    /// A call-log record for a refused call.
    public func deniedRecord(_ request: CallRequest, reason: DenyReason) -> CallRecord {
        CallRecord(
            callID: request.callID, extensionNumber: account.number, userName: account.userName,
            dialled: request.dialled, rate: nil, authorizedAt: request.at, answeredAt: nil, endedAt: request.at,
            billableMillis: 0, cost: .zero, charged: .zero, result: .denied, reason: reason.rawValue,
            balanceAfter: account.balance)
    }

    // MARK: Answer

    /// Marks a call answered and takes its answer charge. A repeated answer changes nothing.
    public mutating func answer(callID: String, at now: Int64, policy: BillingPolicy)
        throws(TollgateError) -> [BillingEvent]
    {
        guard let index = index(of: callID) else {
            if recentlySettled.contains(callID) { return [] }
            throw TollgateError(.notFound, "no live call with this id", field: "callId")
        }
        guard calls[index].answer(at: now) else { return [] }
        revision &+= 1
        projection.invalidate()
        return advance(to: now, policy: policy)
    }

    // MARK: Metering

    /// Takes every charge due at or before `now`, cuts calls that cannot pay, and issues the warnings and
    /// grant renewals due. Charges happen at their scheduled instants whatever `now` is.
    public mutating func advance(to now: Int64, policy: BillingPolicy) -> [BillingEvent] {
        var events: [BillingEvent] = []
        advancedTo = max(advancedTo, now)
        if ringingStoreFallsDue(by: now) { revision &+= 1 }
        chargeDue(upTo: now, events: &events)
        refreshGrantsAndWarnings(at: now, policy: policy, events: &events)
        return events
    }

    /// Whether a call ringing unstored has rung long enough to be stored (``CallCharging/ringingStoreDelayMillis``).
    private func ringingStoreFallsDue(by now: Int64) -> Bool {
        calls.withElements { calls, count in
            (0..<count).contains { calls[$0].ringingStoreDue.map { $0 <= now } ?? false }
        }
    }

    /// Pays due charges in design.md §5 order: due instant, then answer time, then call id.
    private mutating func chargeDue(upTo now: Int64, events: inout [BillingEvent]) {
        // The common case, one call due: no ordering needed and no copies of the call.
        var dueCount = 0
        var single = 0
        calls.withElements { calls, count in
            for index in 0..<count {
                if let at = calls[index].nextChargeAt, at <= now {
                    dueCount += 1
                    single = index
                }
            }
        }
        guard dueCount > 0 else { return }
        if dueCount == 1 {
            while let at = nextChargeAt(single), at <= now {
                guard pay(at: single, dueAt: at, events: &events) else { break }
            }
            return
        }
        var due: [DueCharge] = []
        calls.withElements { calls, count in
            for index in 0..<count {
                if let at = calls[index].nextChargeAt, at <= now { due.append(DueCharge(calls[index], index: index)) }
            }
        }
        due.sort(by: >)
        while let next = due.popLast() {
            if pay(at: next.index, dueAt: next.at, events: &events), let at = nextChargeAt(next.index), at <= now {
                let again = calls.withElements { calls, _ in DueCharge(calls[next.index], index: next.index) }
                due.insert(again, at: due.partitioningIndex { $0 < again })
            }
        }
    }

    /// Read in place (see `withElements`).
    private func nextChargeAt(_ index: Int) -> Int64? { calls.withElements { calls, _ in calls[index].nextChargeAt } }

    /// Takes the next charge of the call at `index`, or cuts it at `dueAt`; true when it was paid.
    private mutating func pay(at index: Int, dueAt: Int64, events: inout [BillingEvent]) -> Bool {
        let amount = calls.withElements { calls, _ in calls[index].nextChargeAmount }
        if account.available >= amount {
            account.balance = Money(micros: account.balance.micros - amount.micros)
            calls[index].recordCharge()
            return true
        }
        revision &+= 1
        calls[index].cut(at: dueAt)
        projection.invalidate()
        events.append(.cutoff(callID: calls[index].callID, extensionNumber: account.number, boundary: dueAt,
                              reason: .insufficientFunds))
        return false
    }

    private mutating func refreshGrantsAndWarnings(at now: Int64, policy: BillingPolicy, events: inout [BillingEvent]) {
        guard calls.withElements({ calls, count in (0..<count).contains { calls[$0].isCharging } }) else { return }
        projection.refresh(calls: &calls, available: account.available, now: now, policy: policy)
        let validity = policy.grantValidityMillis
        let lead = policy.warningLeadMillis
        let number = account.number
        // Through a pointer (see `withElements`).
        calls.withMutableElements { calls, count in
            for index in 0..<count where calls[index].isCharging {
                let cutoff = calls[index].projectedCutoff
                if let cutoff, now >= cutoff - lead, calls[index].warnedFor != cutoff {
                    calls[index].warnedFor = cutoff
                    events.append(.warning(callID: calls[index].callID, extensionNumber: number,
                                           cutoffAt: cutoff, secondsLeft: Tariff.ceilDiv(max(0, cutoff - now), 1000)))
                }
                let desired = min(now &+ validity, cutoff ?? .max)
                let deadline = calls[index].grantDeadline
                let renewalDue = deadline.map { calls[index].grantCappedByMoney || $0 - now <= validity / 2 } ?? true
                if renewalDue, desired > (deadline ?? .min) {
                    calls[index].grantDeadline = desired
                    calls[index].grantCappedByMoney = cutoff == desired
                    events.append(.grantRenewed(callID: calls[index].callID, extensionNumber: number,
                                                deadline: desired))
                }
            }
        }
    }

    /// The next instant `advance` has work to do: a charge, a warning, a grant renewal or a projection refresh.
    public func nextWakeup(policy: BillingPolicy) -> Int64? {
        var earliest: Int64?
        // Anything at or before `advancedTo` was handled then and cannot change until something else does
        // (which runs `advance` itself), so only later instants count: the caller always makes progress.
        func consider(_ instant: Int64?) {
            if let instant, instant > advancedTo, instant < (earliest ?? .max) { earliest = instant }
        }
        var charging = false
        var funded = true
        var firstCharge = Int64.max
        // Through a pointer (see `withElements`).
        calls.withElements { calls, count in
            for index in 0..<count {
                guard calls[index].isCharging else {
                    consider(calls[index].ringingStoreDue)
                    continue
                }
                charging = true
                if let at = calls[index].nextChargeAt, at > advancedTo { firstCharge = min(firstCharge, at) }
                if let cutoff = calls[index].projectedCutoff {
                    // The cut must happen at this very instant, never batched.
                    funded = false
                    consider(cutoff)
                    if calls[index].warnedFor != cutoff { consider(cutoff - policy.warningLeadMillis) }
                }
                if let deadline = calls[index].grantDeadline, !calls[index].grantCappedByMoney {
                    consider(deadline - policy.grantValidityMillis / 2)
                }
            }
            guard firstCharge != .max else { return }
            var chargeWake = firstCharge
            if funded {
                // No call can be cut within the projection: take every charge falling due within the window
                // in one wake-up, at the last of them, instead of one wake-up per call per unit.
                let windowEnd = firstCharge &+ Self.chargeCoalescingMillis
                for index in 0..<count where calls[index].isCharging {
                    if let at = calls[index].nextChargeAt, at < windowEnd, at > chargeWake { chargeWake = at }
                }
            }
            consider(chargeWake)
        }
        if charging { consider(projection.refreshAt(policy: policy)) }
        return earliest
    }

    /// How long the charges of an extension whose money lasts past the projection may wait to be taken
    /// together. Each is still taken at its own instant and in design.md §5 order (`advance` replays them), every
    /// operation that reads or changes the balance takes what is due first, and cutoffs, warnings and grant
    /// renewals keep their exact instants; only the in-memory balance lags by up to this. An extension with
    /// ten live calls is woken about once a second instead of ten times.
    public static let chargeCoalescingMillis: Int64 = 1_000

    // MARK: Settlement

    /// The outcome of an End.
    public enum EndOutcome: Sendable, Hashable {
        /// The call was settled now; `events` are what settling caused for other calls too.
        case settled(CallRecord, events: [BillingEvent])
        /// The call was settled before: a repeated End, acknowledged, changing nothing.
        case alreadySettled
    }

    /// Settles a call exactly once: final cost is `cost(d)` for the capped billable duration; the difference
    /// from what metering took is refunded (or, for charges that fell due but were not yet taken, debited
    /// while affordable; the first unaffordable one caps `d` at its boundary).
    public mutating func end(callID: String, reportedMillis: Int64, cause: String, at now: Int64,
                             policy: BillingPolicy, result forcedResult: CallResult? = nil)
        throws(TollgateError) -> EndOutcome
    {
        guard index(of: callID) != nil else {
            if recentlySettled.contains(callID) { return .alreadySettled }
            throw TollgateError(.notFound, "no live call with this id", field: "callId")
        }
        var events = advance(to: now, policy: policy)
        guard let position = index(of: callID) else { return .alreadySettled }
        var call = calls[position]
        var billable = call.billableCap(reportedMillis: reportedMillis, endedAt: now,
                                        toleranceMillis: policy.endToleranceMillis)
        var cost = Money.zero
        if call.suspended, let tariff = call.rate?.tariff {
            // A restored call only has the charges of its last checkpoint: bill no further than they paid.
            billable = min(billable, tariff.chargeOffset(index: call.chargesMade))
        }
        if let tariff = call.rate?.tariff, let answeredAt = call.answeredAt {
            while call.isCharging, let next = call.nextChargeAt, next - answeredAt < billable {
                guard account.available >= call.nextChargeAmount else {
                    call.cut(at: next)
                    billable = next - answeredAt
                    break
                }
                account.balance = Money(micros: account.balance.micros - call.nextChargeAmount.micros)
                call.recordCharge()
            }
            // All charges falling due before `billable` are paid, so cost(billable) <= charged.
            cost = (try? tariff.cost(billableMillis: billable)) ?? call.charged
            account.balance = Money(micros: account.balance.micros + (call.charged.micros - cost.micros))
        }
        let result: CallResult
        if let forcedResult {
            result = forcedResult
        } else if !call.isBilled {
            result = .unbilled
        } else if !call.isAnswered {
            result = .unanswered
        } else {
            result = call.cutAt != nil ? .cutoff : .completed
        }
        let reason = result == .unbilled ? (call.unbilledReason?.rawValue ?? cause)
            : result == .cutoff ? DenyReason.insufficientFunds.rawValue : cause
        let record = CallRecord(
            callID: callID, extensionNumber: account.number, userName: account.userName, dialled: call.dialled,
            rate: call.rate, authorizedAt: call.authorizedAt, answeredAt: call.answeredAt, endedAt: now,
            billableMillis: call.isAnswered ? billable : 0, cost: cost, charged: call.charged, result: result,
            reason: reason, balanceAfter: account.balance)
        call.markSettled()
        calls.remove(at: position)
        recentlySettled.append(callID)
        if recentlySettled.count > Self.recentlySettledLimit { recentlySettled.removeFirst() }
        revision &+= 1
        projection.invalidate()
        refreshGrantsAndWarnings(at: now, policy: policy, events: &events)
        return .settled(record, events: events)
    }

    /// Resumes restored calls that a PBX claimed after a restart; charges missed meanwhile fall due at once.
    public mutating func resume(callIDs: some Sequence<String>, at now: Int64, policy: BillingPolicy) -> [BillingEvent] {
        for id in callIDs {
            guard let index = index(of: id), calls[index].suspended else { continue }
            calls[index].suspendedAt = nil
            revision &+= 1
        }
        projection.invalidate()
        return advance(to: now, policy: policy)
    }

    /// The live calls changed since this last ran (``CallCharging/changedSinceCheckpoint``), in order, except
    /// new calls still within their ringing delay; these are then marked checkpointed. Run when the extension
    /// is checkpointed at `now`: the ledger keeps the other calls' rows as they are.
    public mutating func takeChangedCalls(at now: Int64) -> [CallCharging] {
        calls.withMutableElements { calls, count in
            var changed: [CallCharging] = []
            for index in 0..<count where calls[index].mustBeStored(at: now) {
                changed.append(calls[index])
                calls[index].markCheckpointed()
            }
            return changed
        }
    }

    /// Suspends every call not suspended yet, as last known live at `lastSeenAt`: after a restart, once the
    /// charges they made since their checkpoint are re-derived, they wait for a PBX to claim them.
    public mutating func suspendLive(lastSeenAt: Int64) {
        for index in calls.indices where !calls[index].suspended {
            calls[index].suspendedAt = lastSeenAt
            revision &+= 1
        }
        projection.invalidate()
    }

    // MARK: Money and settings

    /// A committed change to the balance, with the balances around it.
    public struct BalanceChange: Sendable, Hashable {
        public var before: Money
        public var amount: Money
        public var after: Money
        /// Grant renewals and the like that the new money causes for live calls.
        public var events: [BillingEvent]
    }

    /// Adds a recharge: `0 < amount <= policy.maxRecharge`. Live calls see it at their next charge; grants
    /// capped by money are renewed at once.
    public mutating func recharge(_ amount: Money, at now: Int64, policy: BillingPolicy)
        throws(TollgateError) -> BalanceChange
    {
        guard amount.isPositive else {
            throw TollgateError(.invalidArgument, "recharge amount must be greater than 0", field: "amount")
        }
        guard amount <= policy.maxRecharge else {
            throw TollgateError(.invalidArgument, "recharge amount is above the maximum of \(policy.maxRecharge)",
                                field: "amount")
        }
        let change = try applyBalanceChange(amount, at: now, policy: policy)
        account.totalRecharges = (try? account.totalRecharges.adding(amount)) ?? .max
        return change
    }

    /// An operator's correction of the balance by `amount` (either sign).
    public mutating func adjust(by amount: Money, at now: Int64, policy: BillingPolicy)
        throws(TollgateError) -> BalanceChange
    {
        guard amount != .zero else {
            throw TollgateError(.invalidArgument, "adjustment must not be 0", field: "amount")
        }
        return try applyBalanceChange(amount, at: now, policy: policy)
    }

    private mutating func applyBalanceChange(_ amount: Money, at now: Int64, policy: BillingPolicy)
        throws(TollgateError) -> BalanceChange
    {
        let before = account.balance
        guard let after = try? before.adding(amount), (try? after.adding(account.credit)) != nil else {
            throw TollgateError(.invalidArgument, "the balance would be out of range", field: "amount")
        }
        // Charges already due are taken against the old balance first (recharges apply at their instant).
        var events = advance(to: now, policy: policy)
        let beforeNow = account.balance
        account.balance = Money(micros: beforeNow.micros + amount.micros)
        revision &+= 1
        projection.invalidate()
        refreshGrantsAndWarnings(at: now, policy: policy, events: &events)
        return BalanceChange(before: beforeNow, amount: amount, after: account.balance, events: events)
    }

    /// Changes the account's settings; `nil` fields are left alone. Changing the payment type resets total
    /// recharges; switching billing off stops live calls from accruing further charges.
    public mutating func update(_ change: AccountChange, at now: Int64, policy: BillingPolicy)
        throws(TollgateError) -> [BillingEvent]
    {
        try change.validate()
        var events = advance(to: now, policy: policy)
        if let userName = change.userName { account.userName = userName }
        if let credit = change.credit { account.credit = credit }
        if let status = change.status { account.status = status }
        if let paymentType = change.paymentType, paymentType != account.paymentType {
            account.paymentType = paymentType
            account.totalRecharges = .zero
        }
        if let enabled = change.billingEnabled, enabled != account.billingEnabled {
            account.billingEnabled = enabled
            if !enabled {
                for index in calls.indices where calls[index].isCharging {
                    calls[index].stopBilling(at: now)
                    events.append(.grantRenewed(callID: calls[index].callID, extensionNumber: account.number,
                                                deadline: nil))
                }
            }
        }
        revision &+= 1
        projection.invalidate()
        refreshGrantsAndWarnings(at: now, policy: policy, events: &events)
        return events
    }
}

/// A change to an extension's settings; nil leaves a field as it is.
public struct AccountChange: Sendable, Hashable, Codable {
    public var userName: String?
    public var credit: Money?
    public var status: ExtensionStatus?
    public var paymentType: PaymentType?
    public var billingEnabled: Bool?

    public init(userName: String? = nil, credit: Money? = nil, status: ExtensionStatus? = nil,
                paymentType: PaymentType? = nil, billingEnabled: Bool? = nil) {
        self.userName = userName
        self.credit = credit
        self.status = status
        self.paymentType = paymentType
        self.billingEnabled = billingEnabled
    }

    /// Refuses negative credit and absurd names.
    public func validate() throws(TollgateError) {
        if let credit, credit.isNegative {
            throw TollgateError(.invalidArgument, "credit must not be negative", field: "credit")
        }
        if let userName, userName.utf8.count > 128 {
            throw TollgateError(.invalidArgument, "user name must be at most 128 bytes", field: "userName")
        }
    }
}

/// A charge waiting to be taken, ordered as design.md §5 requires.
struct DueCharge: Comparable {
    let at: Int64
    let answeredAt: Int64
    let callID: String
    /// Position in the book's calls; stable while charges are taken.
    let index: Int

    init(_ call: CallCharging, index: Int) {
        at = call.nextChargeAt ?? .max
        answeredAt = call.answeredAt ?? .max
        callID = call.callID
        self.index = index
    }

    static func < (lhs: DueCharge, rhs: DueCharge) -> Bool {
        (lhs.at, lhs.answeredAt, lhs.callID) < (rhs.at, rhs.answeredAt, rhs.callID)
    }
}

extension Array {
    /// Calls `body` with a pointer to the elements and their count. A field read as `elements[i].field` through
    /// a pointer's addressor happens in place, where the array's (and a buffer pointer's) subscript getter
    /// first copies the whole element, retaining every string in it: for the calls of a book that copy was a
    /// fifth of the metering time at a million live calls.
    @inline(__always)
    func withElements<R>(_ body: (UnsafePointer<Element>, Int) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { buffer in
            // An empty array may have no storage: an aligned placeholder with a count of 0 is never read.
            try body(buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!, buffer.count)
        }
    }

    /// ``withElements(_:)`` for changing the elements in place.
    @inline(__always)
    mutating func withMutableElements<R>(_ body: (UnsafeMutablePointer<Element>, Int) throws -> R) rethrows -> R {
        try withUnsafeMutableBufferPointer { buffer in
            try body(buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!,
                     buffer.count)
        }
    }

    /// The first index whose element satisfies `belongsInSecondPartition`, for an array partitioned by it.
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsInSecondPartition(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
