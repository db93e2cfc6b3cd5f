public import BillingCore
import Journal

/// One extension's money and live calls. Every charge, recharge and settings change of the extension runs
/// here, one at a time, so concurrent calls share the balance without overspending and in a fixed order.
///
/// State changes happen before any suspension point; what must be durable is queued to the journal in the
/// same step (so the journal sees changes in the order they were made), and acknowledgements wait for the
/// commit afterwards.
public actor ExtensionActor {
    public nonisolated let number: String
    var book: AccountBook
    let context: EngineContext
    /// The instant a wheel entry for this actor is pending at, if any.
    private var scheduledAt: Int64?
    private var checkpointedRevision: UInt64
    /// The balance and total recharges as last checkpointed: the ledger rewrites the balance only when they moved.
    private var checkpointedBalance: (balance: Money, totalRecharges: Money)
    /// Ringing calls a resync authorized again after a restart lost their authorization: the PBX holds the lost
    /// authorization's grant, so the engine's is pushed when they are answered (``answer(callID:)``).
    var grantsToRestate: Set<String> = []

    /// `book` as stored: its calls marked checkpointed (a restored book is checkpointed before it is handed over).
    init(book: AccountBook, context: EngineContext) {
        self.number = book.account.number
        self.book = book
        self.context = context
        self.checkpointedRevision = book.revision
        self.checkpointedBalance = (book.account.balance, book.account.totalRecharges)
    }

    /// The account as last changed (charges due since may not be taken yet; see ``currentAccount()``).
    public var account: ExtensionAccount { book.account }

    /// The account as it is now: charges due by now are taken first (a well-funded extension's charges are
    /// taken in batches, ``AccountBook/chargeCoalescingMillis``).
    func currentAccount() -> ExtensionAccount {
        refresh()
        return book.account
    }

    /// The live calls as they are now, charges due by now taken.
    func currentCalls() -> [CallCharging] {
        refresh()
        return book.calls
    }

    // MARK: PBX

    func authorize(_ request: CallRequest) throws(TollgateError) -> Authorization {
        if book.settledRecently(request.callID) { throw .endedCallID }
        let policy = context.policyBox.policy
        // Charges already due are taken first: a well-funded extension's charges are taken in batches
        // (``AccountBook/chargeCoalescingMillis``), and the decision must see the balance as it is now.
        let events = book.advance(to: request.at, policy: policy)
        let decision = book.authorize(request, policy: policy, rates: context.rates)
        if case .denied(let reason) = decision {
            _ = context.journal.append(.denied(book.deniedRecord(request, reason: reason)), checkpoint: nil)
        }
        afterChange(events: events, at: request.at, policy: policy)
        return decision
    }

    func answer(callID: String) throws(TollgateError) {
        let now = context.nowMillis()
        let policy = context.policyBox.policy
        let events = try book.answer(callID: callID, at: now, policy: policy)
        afterChange(events: events, at: now, policy: policy, movingLater: true)
        if !grantsToRestate.isEmpty, grantsToRestate.remove(callID) != nil { restateGrant(callID, unlessIn: events) }
    }

    func end(callID: String, reportedMillis: Int64, cause: String, result: CallResult? = nil) async throws
        -> AccountBook.EndOutcome
    {
        let (outcome, sequence) = try endQueued(callID: callID, reportedMillis: reportedMillis, cause: cause,
                                                result: result)
        if let sequence { try await context.journal.waitCommitted(sequence) }
        return outcome
    }

    /// Settles in memory and queues the settlement to the journal; returns its sequence number to wait on
    /// (nil when nothing was settled now), so a caller can go on while the commit is pending.
    func endQueued(callID: String, reportedMillis: Int64, cause: String, result: CallResult? = nil) throws
        -> (AccountBook.EndOutcome, UInt64?)
    {
        let now = context.nowMillis()
        let policy = context.policyBox.policy
        if !grantsToRestate.isEmpty { grantsToRestate.remove(callID) }
        let stored = Self.isStored(callID, in: &book) ?? true
        let outcome = try book.end(callID: callID, reportedMillis: reportedMillis, cause: cause, at: now,
                                   policy: policy, result: result)
        guard case .settled(let record, let events) = outcome else { return (outcome, nil) }
        var posting: LedgerPosting?
        if record.cost != .zero {
            let after = ledgerBalance
            posting = LedgerPosting(
                extensionNumber: number, kind: .settlement, amount: Money(micros: -record.cost.micros),
                ledgerBalanceBefore: Money(micros: after.micros + record.cost.micros), ledgerBalanceAfter: after,
                at: now, callID: record.callID)
        }
        // A call no checkpoint ever carried (most unanswered calls) has no live row, and no pending checkpoint
        // to be taken out of: its settlement needs a checkpoint only when something else changed.
        let checkpoint = checkpoint(at: now)
        let needed = stored || checkpoint.balanceChanged || !checkpoint.calls.isEmpty
        let sequence = context.journal.append(.settled(record, posting), checkpoint: needed ? checkpoint : nil)
        if !events.isEmpty { context.emit(events) }
        reschedule(policy: policy)
        return (outcome, sequence)
    }

    // MARK: Administration

    func recharge(_ amount: Money, kind: PostingKind, operatorName: String, note: String, idempotencyKey: String?)
        async throws -> RechargeRecord
    {
        let now = context.nowMillis()
        let ledgerBefore = ledgerBalance
        let policy = context.policyBox.policy
        let change = kind == .recharge
            ? try book.recharge(amount, at: now, policy: policy)
            : try book.adjust(by: amount, at: now, policy: policy)
        let record = RechargeRecord(
            extensionNumber: number, userName: book.account.userName, kind: kind, amount: amount,
            balanceBefore: change.before, balanceAfter: change.after, at: now, operatorName: operatorName,
            note: note, idempotencyKey: idempotencyKey)
        let posting = LedgerPosting(
            extensionNumber: number, kind: kind, amount: amount, ledgerBalanceBefore: ledgerBefore,
            ledgerBalanceAfter: ledgerBalance, at: now)
        let sequence = context.journal.append(
            .recharged(record, posting), checkpoint: checkpoint(at: now))
        context.emit(change.events)
        reschedule(policy: policy)
        try await context.journal.waitCommitted(sequence)
        return record
    }

    func update(_ change: AccountChange) async throws -> ExtensionAccount {
        let now = context.nowMillis()
        let policy = context.policyBox.policy
        let events = try book.update(change, at: now, policy: policy)
        let sequence = context.journal.append(.extensionSaved(book.account), checkpoint: checkpoint(at: now))
        context.emit(events)
        reschedule(policy: policy)
        try await context.journal.waitCommitted(sequence)
        return book.account
    }

    // MARK: Ticks

    /// Runs the work due at `at` (and anything else due by now). Returns how late it ran, in µs, and the next
    /// instant to wake it, which the scheduler inserts with the rest of its chunk under one lock.
    func wake(firedFor at: Int64) -> (lateness: Int64, next: Int64?) {
        let micros = context.nowMicros()
        if let pending = scheduledAt, pending <= at { scheduledAt = nil }
        let now = micros / 1000
        let box = context.policyBox
        let events = book.advance(to: now, policy: box.policy)
        // Paid charges leave the revision alone: the journal only learns how far metering got.
        reportMetering(at: now)
        if !events.isEmpty { context.emit(events) }
        var next: Int64?
        if let wanted = Self.nextWakeup(of: &book, policy: box.policy), wanted < (scheduledAt ?? .max) {
            scheduledAt = wanted
            next = wanted
        }
        return (micros - at * 1000, next)
    }

    /// Re-reads settings (a rate or policy change) by running due work now.
    func refresh() {
        let now = context.nowMillis()
        let policy = context.policyBox.policy
        afterChange(events: book.advance(to: now, policy: policy), at: now, policy: policy)
    }

    func afterChange(events: [BillingEvent], at now: Int64, policy: BillingPolicy, movingLater: Bool = false) {
        reportMetering(at: now)
        if !events.isEmpty { context.emit(events) }
        reschedule(policy: policy, movingLater: movingLater)
    }

    /// Checkpoints what changed, if anything did besides paid charges; either way the journal learns that
    /// metering reached `now` (``checkpoint(at:)`` reports it first).
    private func reportMetering(at now: Int64) {
        if book.revision != checkpointedRevision {
            context.journal.checkpoint(checkpoint(at: now))
        } else {
            context.journal.metered(through: now)
        }
    }

    /// What changed since the last checkpoint. The journal hears first that the engine metered through
    /// `now`: recovery re-derives from the stored calls up to that instant, so it must not be short of a
    /// checkpoint whose balance row was left alone.
    private func checkpoint(at now: Int64) -> AccountCheckpoint {
        context.journal.metered(through: now)
        checkpointedRevision = book.revision
        let current = (book.account.balance, book.account.totalRecharges)
        let balanceChanged = current != checkpointedBalance
        checkpointedBalance = current
        return AccountCheckpoint(changesOf: &book, balanceChanged: balanceChanged, at: now)
    }

    // The policy comes from the caller, read once per request from the context's boxed snapshot:
    // `context.policy` copies the whole struct (retaining its sets) out of the settings lock.
    //
    // With `movingLater`, a pending wake-up earlier than needed moves to the instant needed. An answer does
    // this: the wake-up planned to store the call had it kept ringing (``CallCharging/ringingStoreDelayMillis``)
    // would otherwise run for nothing, once per answered call, and at the heaviest moments (a storm of calls).
    // Other changes leave it to run and plan again: moving takes the scheduler's lock, which every change of
    // every extension would then take.
    private func reschedule(policy: BillingPolicy, movingLater: Bool = false) {
        guard let next = Self.nextWakeup(of: &book, policy: policy) else { return }
        if let pending = scheduledAt, pending <= next {
            if movingLater, pending < next, context.move(self, pending, next) { scheduledAt = next }
            return
        }
        scheduledAt = next
        context.schedule(self, next)
    }

    // A non-mutating method called on an actor's stored struct runs on a copy of the whole struct (its calls,
    // strings and sets retained, then released), on every call and every wake-up here. Through `inout` the
    // method reads the stored value in place.
    private static func nextWakeup(of book: inout AccountBook, policy: BillingPolicy) -> Int64? {
        book.nextWakeup(policy: policy)
    }

    private static func isStored(_ callID: String, in book: inout AccountBook) -> Bool? { book.isStored(callID) }

    private var ledgerBalance: Money { Self.ledgerBalance(of: &book) }

    private static func ledgerBalance(of book: inout AccountBook) -> Money { book.ledgerBalance }
}
