public import BillingCore
public import Foundation
public import Logging
import Synchronization

/// The billing engine in process: authorizes, meters, cuts off and settles calls, and applies recharges and
/// settings, with one actor per extension and one tick scheduler for all live calls.
///
/// Events for the PBX (cutoffs, warnings, grant renewals) come out of ``events``; a consumer must drain it.
/// Settlements are not events: whoever ends a call gets its outcome back (no stream hop per call). What must be durable goes to the injected ``BillingJournal``; calls that acknowledge
/// (`ended`, `recharge`, settings) return only after their entry is committed.
public final class MeteringEngine<C: Clock>: Sendable where C.Duration == Duration {
    /// The longest call a PBX may report; anything longer is refused as absurd.
    public static var maxBillableMillis: Int64 { 31 * 86_400_000 }

    public let scheduler: TickScheduler<C>
    /// Cutoffs, warnings and grant renewals, in the order each extension made them; one consumer drains it.
    public let events: EventQueue
    let context: EngineContext
    let registry = Mutex(EngineRegistry())
    private let rechargeKeys = RechargeKeys()

    /// Creates an engine reading time from `clock`, whose current instant is `originEpochMillis`.
    public init(clock: C, originEpochMillis: Int64, journal: any BillingJournal, policy: BillingPolicy = .init(),
                rates: RateTable = .init(), timeZone: TimeZone = TimeZone(identifier: "UTC")!,
                logger: Logger = Logger(label: "tollgate.metering")) {
        let time = EngineTime(clock: clock, originEpochMillis: originEpochMillis)
        let scheduler = TickScheduler(time: time)
        let events = EventQueue()
        self.scheduler = scheduler
        self.events = events
        self.context = EngineContext(
            journal: journal, logger: logger, policy: policy, rates: rates, timeZone: timeZone,
            nowMillis: { [now = time.epochMicrosReader] in now() / 1000 }, nowMicros: time.epochMicrosReader,
            events: events,
            schedule: { actor, at in scheduler.schedule(actor, at: at) },
            move: { actor, from, to in scheduler.move(actor, from: from, to: to) })
    }

    deinit { scheduler.removeAll() }

    /// Decision counts, cutoffs, authorize latency and cutoff lateness.
    public var stats: EngineStats { context.stats }

    /// Engine time now, ms since the Unix epoch.
    public func nowMillis() -> Int64 { context.nowMillis() }

    /// Runs the tick scheduler until cancelled, then ends ``events``.
    public func run() async throws {
        defer { context.finishEvents() }
        try await scheduler.run()
    }

    // MARK: PBX

    /// Decides whether a call may start; an allowed call becomes live. An unknown extension is created with
    /// billing off (design.md §3). `route` is where the call's pushes go (the PBX server's connection; nil keeps
    /// the one a repeated request set), read back with ``route(of:)``.
    public func authorize(callID: String, extensionNumber: String, dialled: String,
                          route: (any AnyObject & Sendable)? = nil) async throws(TollgateError) -> Authorization
    {
        let startMicros = context.nowMicros()
        let now = startMicros / 1000
        let request = CallRequest(callID: callID, extensionNumber: extensionNumber, dialled: dialled, at: now,
                                  secondOfDay: context.secondOfDay(epochMillis: now))
        try request.validate()
        // One lock for every lookup: this runs for every call.
        let (owner, ended, known) = registry.withLock { registry in
            let owner = registry.callOwners[callID]?.actor
            return (owner, registry.recentlyEnded.contains(callID), owner ?? registry.accounts[extensionNumber])
        }
        if let owner, owner.number != extensionNumber {
            throw TollgateError(.alreadyExists, "call id is live for another extension", field: "callId")
        }
        if ended {
            // A call id names one call: an id that just ended is a duplicated request, not a new call. The
            // extension remembers its own last few for longer (``AccountBook/settledRecently(_:)``).
            throw .endedCallID
        }
        let actor = known ?? actor(for: extensionNumber, userName: nil).actor
        let decision = try await actor.authorize(request)
        if decision.isAllowed {
            registry.withLock { registry in
                let route = route ?? registry.callOwners[callID]?.route
                registry.callOwners[callID] = EngineRegistry.CallOwner(actor: actor, route: route)
            }
        }
        context.stats.recordDecision(allowed: decision.isAllowed, micros: context.nowMicros() - startMicros)
        return decision
    }

    /// Marks a live call answered; its answer charge is taken now. A repeat changes nothing.
    public func answered(callID: String) async throws(TollgateError) {
        guard let owner = try owner(of: callID) else { return }
        try await owner.answer(callID: callID)
    }

    /// Ends and settles a call exactly once; returns after the settlement is committed.
    public func ended(callID: String, billableMillis: Int64, cause: String) async throws -> AccountBook.EndOutcome {
        let pending = try await endedWithoutWaiting(callID: callID, billableMillis: billableMillis, cause: cause)
        try await pending.committed()
        return pending.outcome
    }

    /// Ends and settles a call exactly once, in memory and queued to the journal, without waiting for the
    /// commit: the PBX server goes on with a connection's next request and sends this reply, in order, once
    /// ``PendingSettlement/committed()`` returns. The settlement must not be acknowledged before that.
    public func endedWithoutWaiting(callID: String, billableMillis: Int64, cause: String) async throws
        -> PendingSettlement
    {
        try Self.validateEnd(billableMillis: billableMillis, cause: cause)
        guard let owner = try owner(of: callID) else {
            return PendingSettlement(outcome: .alreadySettled, sequence: nil, journal: context.journal)
        }
        let (outcome, sequence) = try await owner.endQueued(callID: callID, reportedMillis: billableMillis,
                                                            cause: cause)
        forget(callID: callID)
        return PendingSettlement(outcome: outcome, sequence: sequence, journal: context.journal)
    }

    /// What any End must hold: a billable duration of 0 to 31 days and a cause of at most 128 bytes.
    static func validateEnd(billableMillis: Int64, cause: String) throws(TollgateError) {
        guard (0...maxBillableMillis).contains(billableMillis) else {
            throw TollgateError(.invalidArgument, "billable duration must be 0 to 31 days", field: "billableMs")
        }
        guard cause.utf8.count <= 128 else {
            throw TollgateError(.invalidArgument, "cause must be at most 128 bytes", field: "cause")
        }
    }

    /// How many calls are live (authorized, answered or cut, not yet ended); cheap, for metrics.
    public var liveCallCount: Int { registry.withLock { $0.callOwners.count } }

    /// How many extensions the engine knows; cheap, for metrics.
    public var extensionCount: Int { registry.withLock { $0.accounts.count } }

    /// Whether a call is live in the engine (authorized, answered or cut, not yet ended).
    public func isLive(callID: String) -> Bool { registry.withLock { $0.callOwners[callID] != nil } }

    /// Where a live call's pushes go, as set by ``authorize(callID:extensionNumber:dialled:route:)`` or
    /// ``setRoute(_:callID:)``; nil for a call not live or with no route.
    public func route(of callID: String) -> (any AnyObject & Sendable)? {
        registry.withLock { $0.callOwners[callID]?.route }
    }

    /// Sends a live call's pushes to `route` from now on (a resync adopting it; nil: nowhere). Returns whether
    /// the call is live.
    @discardableResult
    public func setRoute(_ route: (any AnyObject & Sendable)?, callID: String) -> Bool {
        registry.withLock { registry in
            guard let index = registry.callOwners.index(forKey: callID) else { return false }
            registry.callOwners.values[index].route = route
            return true
        }
    }

    /// The live calls whose pushes go to `route`.
    public func calls(routedTo route: AnyObject) -> [String] {
        registry.withLock { registry in registry.callOwners.filter { $0.value.route === route }.map(\.key) }
    }

    private func owner(of callID: String) throws(TollgateError) -> ExtensionActor? {
        // A live call is never also a recently ended one: the second lookup only for an id not live.
        let (owner, ended) = registry.withLock { registry -> (ExtensionActor?, Bool) in
            if let owner = registry.callOwners[callID]?.actor { return (owner, false) }
            return (nil, registry.recentlyEnded.contains(callID))
        }
        if let owner { return owner }
        if ended { return nil }
        throw TollgateError(.notFound, "no live call with this id", field: "callId")
    }

    private func forget(callID: String) {
        registry.withLock {
            $0.callOwners[callID] = nil
            if !$0.unclaimed.isEmpty { $0.unclaimed[callID] = nil }
            $0.recentlyEnded.insert(callID)
        }
    }

    // MARK: Extensions

    /// Makes an extension known (from a PBX sync or the admin surface), with billing off when new; updates
    /// the user name when one is given. Returns after any change is committed.
    @discardableResult
    public func ensureExtension(number: String, userName: String? = nil) async throws -> ExtensionAccount {
        try ExtensionAccount.validate(number: number)
        let (actor, created) = actor(for: number, userName: userName)
        if let userName, await actor.account.userName != userName {
            return try await actor.update(AccountChange(userName: userName))
        }
        if created { _ = try await actor.update(AccountChange()) }
        return await actor.currentAccount()
    }

    private func actor(for number: String, userName: String?) -> (actor: ExtensionActor, created: Bool) {
        registry.withLock { registry in
            if let existing = registry.accounts[number] { return (existing, false) }
            let account = ExtensionAccount(number: number, userName: userName ?? "")
            let actor = ExtensionActor(book: AccountBook(account: account), context: context)
            registry.accounts[number] = actor
            _ = context.journal.append(.extensionSaved(account), checkpoint: nil)
            return (actor, true)
        }
    }

    private func existing(_ number: String) throws(TollgateError) -> ExtensionActor {
        guard let actor = registry.withLock({ $0.accounts[number] }) else {
            throw TollgateError(.notFound, "no extension \(number.prefix(32))", field: "extension")
        }
        return actor
    }

    /// Changes an extension's settings; live calls see them at their next charge.
    public func updateExtension(number: String, _ change: AccountChange) async throws -> ExtensionAccount {
        try await existing(number).update(change)
    }

    /// An extension as it is now.
    public func extensionAccount(number: String) async -> ExtensionAccount? {
        guard let actor = registry.withLock({ $0.accounts[number] }) else { return nil }
        return await actor.currentAccount()
    }

    /// Every extension's number, sorted. Kept between calls and sorted again only after extensions were added, and
    /// then outside the registry's lock, so a list page does not hold up authorizations.
    public func extensionNumbers() -> [String] {
        let (sorted, keys) = registry.withLock { registry -> ([String], [String]?) in
            registry.sortedNumbers.count == registry.accounts.count
                ? (registry.sortedNumbers, nil) : ([], Array(registry.accounts.keys))
        }
        guard let keys else { return sorted }
        let fresh = keys.sorted()
        registry.withLock { registry in
            if registry.accounts.count == fresh.count { registry.sortedNumbers = fresh }
        }
        return fresh
    }

    /// Every extension, by number.
    public func extensionAccounts() async -> [ExtensionAccount] {
        var result: [ExtensionAccount] = []
        for actor in registry.withLock({ Array($0.accounts.values) }) { result.append(await actor.currentAccount()) }
        return result.sorted { $0.number < $1.number }
    }

    /// Calls in progress.
    public func liveCalls() async -> [CallCharging] {
        // Only the extensions that own a live call are asked: with 100,000 extensions and 10,000 calls, a tenth.
        let owners = registry.withLock { registry in
            var seen = Set<ObjectIdentifier>()
            return registry.callOwners.values.map(\.actor).filter { seen.insert(ObjectIdentifier($0)).inserted }
        }
        var result: [CallCharging] = []
        for actor in owners { result += await actor.currentCalls() }
        return result.sorted { ($0.authorizedAt, $0.callID) < ($1.authorizedAt, $1.callID) }
    }

    // MARK: Money

    /// Recharges an extension: `0 < amount <= maxRecharge`. With an idempotency key, a retry recharges once
    /// and returns the first record. Returns after the recharge is committed.
    public func recharge(number: String, amount: Money, operatorName: String, note: String = "",
                         idempotencyKey: String? = nil) async throws -> RechargeRecord {
        try await applyMoney(number: number, amount: amount, kind: .recharge, operatorName: operatorName, note: note,
                             idempotencyKey: idempotencyKey).record
    }

    /// A recharge, with what it did: with an `idempotencyKey` a client may retry it, and every attempt after the
    /// first (after a lost reply, a timeout, a restart of the server) returns the committed record with `replayed`
    /// set, so the client can tell the two apart. Returns after the recharge is committed.
    public func rechargeOutcome(number: String, amount: Money, operatorName: String, note: String = "",
                                idempotencyKey: String?) async throws -> RechargeOutcome {
        try await applyMoney(number: number, amount: amount, kind: .recharge, operatorName: operatorName, note: note,
                             idempotencyKey: idempotencyKey)
    }

    /// An operator's correction of a balance by a signed amount, recorded in the ledger.
    public func adjust(number: String, amount: Money, operatorName: String, note: String) async throws
        -> RechargeRecord
    {
        try await applyMoney(number: number, amount: amount, kind: .adjustment, operatorName: operatorName,
                             note: note, idempotencyKey: nil).record
    }

    private func applyMoney(number: String, amount: Money, kind: PostingKind, operatorName: String, note: String,
                            idempotencyKey: String?) async throws -> RechargeOutcome {
        guard operatorName.utf8.count <= 128, note.utf8.count <= 1024 else {
            throw TollgateError(.invalidArgument, "operator name or note too long", field: "note")
        }
        let actor = try existing(number)
        guard let key = idempotencyKey else {
            return RechargeOutcome(record: try await actor.recharge(amount, kind: kind, operatorName: operatorName,
                                                                    note: note, idempotencyKey: nil),
                                   replayed: false)
        }
        guard (1...255).contains(key.utf8.count) else {
            throw TollgateError(.invalidArgument, "idempotency key must be 1-255 bytes", field: "idempotencyKey")
        }
        if case .replay(let record) = try rechargeKeys.claim(key, number: number, amount: amount) {
            return RechargeOutcome(record: record, replayed: true)
        }
        var finished: RechargeRecord?
        defer { rechargeKeys.finish(key, record: finished) }
        // Keys that fell out of memory, or were committed before a restart, are found in the ledger.
        if let committed = try await context.journal.recharge(idempotencyKey: key) {
            try RechargeKeys.check(committed, number: number, amount: amount)
            finished = committed
            return RechargeOutcome(record: committed, replayed: true)
        }
        let record = try await actor.recharge(amount, kind: kind, operatorName: operatorName, note: note,
                                              idempotencyKey: key)
        finished = record
        return RechargeOutcome(record: record, replayed: false)
    }

    // MARK: Rates and settings

    /// The rate table in force.
    public var rates: RateTable { context.rates }
    /// The billing policy in force.
    public var policy: BillingPolicy { context.policy }
    /// The time zone rate blocks are read in.
    public var timeZone: TimeZone { context.timeZone }

    /// Local time of day (seconds after midnight, in the rate time zone) of an instant: what rate selection uses.
    public func secondOfDay(epochMillis: Int64) -> Int { context.secondOfDay(epochMillis: epochMillis) }

    /// The next free rate id.
    public func nextRateID() -> Int64 { (context.rates.rates.keys.max() ?? 0) + 1 }

    /// Adds or replaces a rate; new calls see it at once, live calls keep their snapshot.
    public func saveRate(_ rate: Rate) async throws {
        context.update { $0.rates = $0.rates.upserting(rate) }
        try await context.journal.waitCommitted(context.journal.append(.rateSaved(rate), checkpoint: nil))
    }

    /// Replaces the whole rate table at once (an import): one rebuild, one commit.
    public func replaceRates(_ rates: [Rate]) async throws {
        let old = context.rates.rates.keys
        context.update { $0.rates = RateTable(rates: rates) }
        var last: UInt64 = 0
        let kept = Set(rates.map(\.id))
        for id in old where !kept.contains(id) { last = context.journal.append(.rateDeleted(id: id), checkpoint: nil) }
        for rate in rates { last = context.journal.append(.rateSaved(rate), checkpoint: nil) }
        try await context.journal.waitCommitted(last)
    }

    /// Deletes a rate; live calls keep their snapshot.
    public func deleteRate(id: Int64) async throws {
        guard context.rates.rates[id] != nil else {
            throw TollgateError(.notFound, "no rate \(id)", field: "id")
        }
        context.update { $0.rates = $0.rates.removing(id: id) }
        try await context.journal.waitCommitted(context.journal.append(.rateDeleted(id: id), checkpoint: nil))
    }

    /// Replaces the billing policy; metering reads it at the next charge.
    public func setPolicy(_ policy: BillingPolicy) async throws {
        guard policy.grantValidityMillis >= 1_000, policy.warningLeadMillis >= 0, policy.endToleranceMillis >= 0,
            policy.maxRecharge.isPositive
        else { throw TollgateError(.invalidArgument, "policy values out of range", field: "policy") }
        context.update { $0.policy = policy }
        try await context.journal.waitCommitted(context.journal.append(.policySaved(policy), checkpoint: nil))
        // Wake-ups were planned with the old warning lead and grant validity: replan those with live calls.
        let live = registry.withLock { Set($0.callOwners.values.map { ObjectIdentifier($0.actor) }) }
        for actor in registry.withLock({ Array($0.accounts.values) }) where live.contains(ObjectIdentifier(actor)) {
            await actor.refresh()
        }
    }

    /// Sets the time zone that rate time blocks are read in.
    public func setTimeZone(_ zone: TimeZone) async throws {
        context.update { $0.timeZone = zone }
        try await saveSetting(key: SettingKey.timeZone, value: zone.identifier)
    }

    /// Stores a setting the engine itself does not read (the display currency, say).
    public func saveSetting(key: String, value: String) async throws {
        guard (1...64).contains(key.utf8.count), value.utf8.count <= 65_536 else {
            throw TollgateError(.invalidArgument, "setting key or value too long", field: "key")
        }
        try await context.journal.waitCommitted(
            context.journal.append(.settingSaved(key: key, value: value), checkpoint: nil))
    }
}

/// Keys of the settings the engine stores.
public enum SettingKey {
    public static let policy = "policy"
    public static let timeZone = "time_zone"
    public static let currency = "currency"
}

extension TollgateError {
    /// An authorization with the id of a call that ended: a duplicated request, not a new call.
    static var endedCallID: TollgateError {
        TollgateError(.alreadyExists, "call id was already used by a call that ended", field: "callId")
    }
}

/// A bounded set of recent ids, oldest forgotten first.
struct RecentIDs {
    private var members: Set<String> = []
    private var ring: [String] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ id: String) -> Bool { members.contains(id) }

    mutating func insert(_ id: String) {
        guard members.insert(id).inserted else { return }
        if ring.count < capacity {
            ring.append(id)
        } else {
            members.remove(ring[next])
            ring[next] = id
            next = (next + 1) % capacity
        }
    }
}
