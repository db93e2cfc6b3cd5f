public import BillingCore
public import Journal
public import Logging

extension MeteringEngine {
    /// An engine on `journal`, restored from what its store read back (``LoadedLedger``): settings, rates,
    /// extensions and their open calls (suspended until a PBX claims them or ``settleUnclaimed()`` runs).
    public convenience init<C: Clock>(clock: C, originEpochMillis: Int64, journal: any BillingJournal,
                                      restoring loaded: LoadedLedger,
                                      logger: Logger = Logger(label: "tollgate.metering")) where C.Duration == Duration {
        self.init(clock: clock, originEpochMillis: originEpochMillis, journal: journal, policy: loaded.policy,
                  rates: RateTable(rates: loaded.rates), timeZone: loaded.timeZone, logger: logger)
        restore(loaded.accounts, meteredThrough: loaded.meteredThrough, endedCallIDs: loaded.endedCallIDs)
    }

    /// Loads extensions and their open calls after a restart (design.md §11). Calls that were being metered first
    /// take the charges that fell due between their checkpoint and `meteredThrough`, the last instant the
    /// journal knew the engine metering (checkpoints are not taken for paid charges), exactly as the engine
    /// took them: in due order, cutting a call whose next charge could not be paid. Then every restored call is
    /// suspended, known live until then: it accrues nothing until a PBX claims it (``adopt(callIDs:)``) or the
    /// grace period ends (``settleUnclaimed()``). The restored state is checkpointed at once, so a second
    /// crash before any PBX claims the calls does not bill the time in between. `endedCallIDs` (oldest first) are
    /// the calls settled before: they stay refused as new calls. Call before serving.
    public func restore(_ accounts: [RestoredAccount], meteredThrough: Int64? = nil, endedCallIDs: [String] = []) {
        let policy = context.policy
        // Never re-derive past now: a stored instant ahead of this clock (a clock set back, a damaged file)
        // would bill time the engine never metered.
        let metered = min(meteredThrough ?? .min, context.nowMillis())
        registry.withLock { registry in
            registry.acceptsLostCalls = true
            for id in endedCallIDs { registry.recentlyEnded.insert(id) }
            for item in accounts {
                var book = AccountBook(
                    account: item.account, calls: item.calls.map { $0.restore(extensionNumber: item.account.number) })
                let lastSeen = max(item.checkpointAt, metered)
                if !book.calls.isEmpty {
                    if book.calls.contains(where: { !$0.suspended }) {
                        _ = book.advance(to: lastSeen, policy: policy)
                        book.suspendLive(lastSeenAt: lastSeen)
                    }
                    // Restored calls all count as changed: this checkpoint carries every one of them.
                    context.journal.checkpoint(AccountCheckpoint(changesOf: &book, balanceChanged: true, at: lastSeen))
                }
                let actor = ExtensionActor(book: book, context: context)
                registry.accounts[item.account.number] = actor
                for call in book.calls {
                    registry.callOwners[call.callID] = EngineRegistry.CallOwner(actor: actor, route: nil)
                    registry.unclaimed[call.callID] = call.suspendedAt ?? lastSeen
                }
            }
        }
    }

    /// Restored calls that no PBX has claimed yet.
    public var unclaimedCallIDs: [String] { registry.withLock { Array($0.unclaimed.keys).sorted() } }

    /// A PBX reconnected and reports these calls live: they resume metering (missed charges fall due at once).
    /// Returns the ids that were restored calls.
    @discardableResult
    public func adopt(callIDs: [String]) async -> [String] {
        let owned: [(String, ExtensionActor)] = registry.withLock { registry in
            callIDs.compactMap { id in
                guard registry.unclaimed.removeValue(forKey: id) != nil, let owner = registry.callOwners[id]?.actor else {
                    return nil
                }
                return (id, owner)
            }
        }
        for (id, owner) in owned { await owner.resume(callIDs: [id]) }
        return owned.map(\.0)
    }

    /// Settles every restored call no PBX claimed, from its last checkpoint, marked `recovered`. Ends the
    /// grace period: a resync no longer claims calls the restart lost (``acceptsLostCalls``).
    public func settleUnclaimed() async throws -> [CallRecord] {
        let pending: [(String, Int64, ExtensionActor)] = registry.withLock { registry in
            registry.acceptsLostCalls = false
            return registry.unclaimed.compactMap { id, at in registry.callOwners[id].map { (id, at, $0.actor) } }
        }
        var records: [CallRecord] = []
        for (id, checkpointAt, owner) in pending.sorted(by: { $0.0 < $1.0 }) {
            let outcome = try await owner.endRecovered(callID: id, lastSeenAt: checkpointAt)
            registry.withLock {
                $0.callOwners[id] = nil
                $0.unclaimed[id] = nil
                $0.recentlyEnded.insert(id)
            }
            if case .settled(let record, _) = outcome { records.append(record) }
        }
        return records
    }
}

extension MeteringEngine {
    /// A PBX connection dropped (`route`, the one its calls' pushes took). Its calls wait `graceMillis` on the
    /// engine's clock for a resync from a new connection, which takes their route over; those still routed to
    /// `route` then are settled, billed no further than the grant deadline the PBX last had (it hung them up by
    /// then at the latest). `waiting` is told when the grace period starts, only when there are calls to wait for.
    /// Returns when the calls are settled, or at once when cancelled.
    public func connectionDropped(_ route: any CallRoute, graceMillis: Int64, waiting: () -> Void = {}) async {
        let calls = calls(routedTo: route)
        guard !calls.isEmpty else { return }
        // Read now: renewals made after the drop never reached the PBX.
        var lastGrant: [String: Int64?] = [:]
        for callID in calls { lastGrant[callID] = await grantDeadline(callID: callID) }
        let deadline = nowMillis() + graceMillis
        waiting()
        do { try await scheduler.time.sleep(untilEpochMillis: deadline) } catch { return }
        for callID in self.calls(routedTo: route) where self.route(of: callID) === route {
            let number = extensionNumber(ofCall: callID) ?? ""
            setRoute(nil, callID: callID)
            do {
                if let record = try await settleAbandoned(callID: callID, notAfter: lastGrant[callID] ?? nil) {
                    context.logger.warning("settled a call its PBX abandoned", metadata: .fields([
                        .callID: "\(callID)", .extensionNumber: "\(record.extensionNumber)",
                        .billableMillis: "\(record.billableMillis)",
                    ]))
                }
            } catch {
                context.logger.error("could not settle an abandoned call", metadata: .fields([
                    .callID: "\(callID)", .extensionNumber: "\(number)", .error: "\(error)",
                ]))
            }
        }
    }

    /// The grant deadline a live call has now (nil: unlimited or unknown). Read when a PBX connection drops:
    /// renewals made after that never reach the PBX.
    public func grantDeadline(callID: String) async -> Int64? {
        guard let owner = registry.withLock({ $0.callOwners[callID]?.actor }) else { return nil }
        return await owner.book.call(callID)?.grantDeadline
    }

    /// Settles a call whose PBX connection dropped and never claimed it back: the PBX hung it up by the grant
    /// deadline it last had (`notAfter`) at the latest, so it is billed no further than that, marked `recovered`.
    /// Returns nil when the call already ended.
    public func settleAbandoned(callID: String, notAfter: Int64?) async throws -> CallRecord? {
        guard let owner = registry.withLock({ $0.callOwners[callID]?.actor }) else { return nil }
        let outcome = try await owner.endAbandoned(callID: callID, notAfter: notAfter)
        registry.withLock {
            $0.callOwners[callID] = nil
            $0.unclaimed[callID] = nil
            $0.recentlyEnded.insert(callID)
        }
        if case .settled(let record, _)? = outcome { return record }
        return nil
    }
}

extension ExtensionActor {
    func endAbandoned(callID: String, notAfter: Int64?) async throws -> AccountBook.EndOutcome? {
        guard let call = book.call(callID) else { return nil }
        let now = context.nowMillis()
        let endedBy = min(now, notAfter ?? now)
        let reported = call.answeredAt.map { max(0, endedBy - $0) } ?? 0
        return try await end(callID: callID, reportedMillis: reported, cause: "PBX_DISCONNECTED", result: .recovered)
    }

    func resume(callIDs: [String]) {
        let now = context.nowMillis()
        let policy = context.policyBox.policy
        let events = book.resume(callIDs: callIDs, at: now, policy: policy)
        afterChange(events: events, at: now, policy: policy)
    }

    /// Settles a restored call as lasting until it was last known live.
    func endRecovered(callID: String, lastSeenAt: Int64) async throws -> AccountBook.EndOutcome {
        let answeredAt = book.call(callID)?.answeredAt
        let reported = answeredAt.map { max(0, lastSeenAt - $0) } ?? 0
        return try await end(callID: callID, reportedMillis: reported, cause: "RECOVERED", result: .recovered)
    }
}
