public import BillingCore
public import Foundation
public import Journal
import Synchronization

/// What administration calls (the API, the console, the CLI through them): extensions, money, rates and
/// settings. Each change returns once it is committed.
extension MeteringEngine {
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

    func actor(for number: String, userName: String?) -> (actor: ExtensionActor, created: Bool) {
        registry.withLock { registry in
            if let existing = registry.accounts[number] { return (existing, false) }
            let account = ExtensionAccount(number: number, userName: userName ?? "")
            let actor = ExtensionActor(book: AccountBook(account: account), context: context)
            registry.accounts[number] = actor
            _ = context.journal.append(.extensionSaved(account), checkpoint: nil)
            return (actor, true)
        }
    }

    func existing(_ number: String) throws(TollgateError) -> ExtensionActor {
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

    func applyMoney(number: String, amount: Money, kind: PostingKind, operatorName: String, note: String,
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
