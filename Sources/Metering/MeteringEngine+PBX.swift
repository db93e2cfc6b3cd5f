public import BillingCore
import Journal
import Synchronization

/// What a PBX connection calls: authorize, answer and end calls, and the routes their pushes take.
extension MeteringEngine {
    /// Decides whether a call may start; an allowed call becomes live. An unknown extension is created with
    /// billing off (design.md §3). `route` is where the call's pushes go (the PBX server's connection; nil keeps
    /// the one a repeated request set), read back with ``route(of:)``.
    public func authorize(callID: String, extensionNumber: String, dialled: String,
                          route: (any CallRoute)? = nil) async throws(TollgateError) -> Authorization
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
    public func ended(callID: String, billableMillis: Int64, cause: String, lost: ClaimedCall? = nil) async throws
        -> AccountBook.EndOutcome
    {
        let pending = try await endedWithoutWaiting(callID: callID, billableMillis: billableMillis, cause: cause,
                                                    lost: lost)
        try await pending.committed()
        return pending.outcome
    }

    /// Ends and settles a call exactly once, in memory and queued to the journal, without waiting for the
    /// commit: the PBX server goes on with a connection's next request and sends this reply, in order, once
    /// ``PendingSettlement/committed()`` returns. The settlement must not be acknowledged before that.
    ///
    /// This one operation decides every End: a known call is settled; a repeat is answered as already settled;
    /// an unknown call that the PBX names (`lost`: its extension and dialled number, on an End sent again after
    /// a reconnect) may be one a restart lost whole, settled from that account (``endedLost(_:billableMillis:cause:)``);
    /// any other unknown call is `NOT_FOUND`.
    public func endedWithoutWaiting(callID: String, billableMillis: Int64, cause: String,
                                    lost: ClaimedCall? = nil) async throws -> PendingSettlement
    {
        do {
            return try await endKnown(callID: callID, billableMillis: billableMillis, cause: cause)
        } catch let error as TollgateError where error.code == .notFound && lost != nil {
            guard let lost, let settled = try await endedLost(lost, billableMillis: billableMillis, cause: cause)
            else { throw error }
            context.logger.info("settled a call the restart lost, from its re-sent End", metadata: .fields([
                .callID: "\(callID)", .extensionNumber: "\(lost.extensionNumber)",
                .billableMillis: "\(billableMillis)",
            ]))
            return settled
        }
    }

    /// Ends a call this engine knows (or has just settled).
    func endKnown(callID: String, billableMillis: Int64, cause: String) async throws -> PendingSettlement {
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
    public func route(of callID: String) -> (any CallRoute)? {
        registry.withLock { $0.callOwners[callID]?.route }
    }

    /// The extension of a live call (for the logs: every line about a call names both).
    public func extensionNumber(ofCall callID: String) -> String? {
        registry.withLock { $0.callOwners[callID]?.actor.number }
    }

    /// Sends a live call's pushes to `route` from now on (a resync adopting it; nil: nowhere). Returns whether
    /// the call is live.
    @discardableResult
    public func setRoute(_ route: (any CallRoute)?, callID: String) -> Bool {
        registry.withLock { registry in
            guard let index = registry.callOwners.index(forKey: callID) else { return false }
            registry.callOwners.values[index].route = route
            return true
        }
    }

    /// The live calls whose pushes go to `route`.
    public func calls(routedTo route: any CallRoute) -> [String] {
        registry.withLock { registry in registry.callOwners.filter { $0.value.route === route }.map(\.key) }
    }

    func owner(of callID: String) throws(TollgateError) -> ExtensionActor? {
        // A live call is never also a recently ended one: the second lookup only for an id not live.
        let (owner, ended) = registry.withLock { registry -> (ExtensionActor?, Bool) in
            if let owner = registry.callOwners[callID]?.actor { return (owner, false) }
            return (nil, registry.recentlyEnded.contains(callID))
        }
        if let owner { return owner }
        if ended { return nil }
        throw TollgateError(.notFound, "no live call with this id", field: "callId")
    }

    func forget(callID: String) {
        registry.withLock {
            $0.callOwners[callID] = nil
            if !$0.unclaimed.isEmpty { $0.unclaimed[callID] = nil }
            $0.recentlyEnded.insert(callID)
        }
    }
}

extension TollgateError {
    /// An authorization with the id of a call that ended: a duplicated request, not a new call.
    static var endedCallID: TollgateError {
        TollgateError(.alreadyExists, "call id was already used by a call that ended", field: "callId")
    }
}
