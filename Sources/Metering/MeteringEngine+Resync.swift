public import BillingCore
import Journal

/// What a resync did with each claimed call.
public struct ResyncOutcome: Sendable, Hashable {
    /// Calls metered again, their pushes now going to the resync's route.
    public var adopted: [String] = []
    /// Calls the engine does not know, already settled, or could not authorize again: to be hung up.
    public var unknown: [String] = []
    /// How many of the adopted calls were lost by a restart and authorized again.
    public var authorizedAgain = 0

    public init(adopted: [String] = [], unknown: [String] = []) {
        self.adopted = adopted
        self.unknown = unknown
    }
}

extension MeteringEngine {
    /// A PBX reconnected and reports these calls up; their pushes go to `route` from now on.
    ///
    /// - A known call is adopted: a restored one resumes metering, charges missed meanwhile falling due at once.
    ///   A call already cut has its cutoff pushed again: the first push went to a connection that was gone.
    ///   When the PBX answered a call the engine still has ringing (its Answered was lost with the connection or
    ///   the restart), the call is answered as of the PBX's answer.
    /// - In the grace period after a restart (``acceptsLostCalls``), a call the engine does not know is one the
    ///   restart lost: a call that had rung for less than ``CallCharging/ringingStoreDelayMillis``, or whose answer
    ///   was not committed yet. It is authorized again as a new call (answered as of the PBX's answer when it
    ///   was) and adopted when allowed; a refused one is logged as denied and reported unknown.
    /// - Otherwise an unknown call is reported unknown: the engine never authorized it, or settled it.
    public func resync(_ claims: [ClaimedCall], route: (any CallRoute)?) async -> ResyncOutcome {
        // An id claimed twice is one call, answered once in the reply.
        var seen = Set<String>()
        let calls = claims.filter { seen.insert($0.callID).inserted }
        // Routes first: what resuming and answering push (cutoffs at boundaries passed meanwhile) goes to this PBX.
        let known: [(call: ClaimedCall, owner: ExtensionActor)] = registry.withLock { registry in
            calls.compactMap { call in
                guard let index = registry.callOwners.index(forKey: call.callID) else { return nil }
                registry.callOwners.values[index].route = route
                if !registry.unclaimed.isEmpty { registry.unclaimed[call.callID] = nil }
                return (call, registry.callOwners.values[index].actor)
            }
        }
        for (call, owner) in known {
            await owner.reclaim(callID: call.callID, answeredMillisAgo: call.answered ? call.answeredMillisAgo : nil)
        }
        let adoptedKnown = Set(known.map(\.call.callID))
        let lostCallsAccepted = acceptsLostCalls
        var outcome = ResyncOutcome()
        for call in calls {
            if adoptedKnown.contains(call.callID) {
                outcome.adopted.append(call.callID)
            } else if lostCallsAccepted, await authorizeLost(call, route: route) {
                outcome.adopted.append(call.callID)
                outcome.authorizedAgain += 1
            } else {
                outcome.unknown.append(call.callID)
            }
        }
        return outcome
    }

    /// True from ``restore(_:meteredThrough:endedCallIDs:)`` until ``settleUnclaimed()``: a resync may then claim calls the
    /// restart lost (``resync(_:route:)``).
    public var acceptsLostCalls: Bool { registry.withLock { $0.acceptsLostCalls } }

    /// An End a PBX sent again after a reconnect, for a call this engine does not know. In the grace period after a
    /// restart, the restart may have lost it whole: it ended while the server was down, before it was stored. It
    /// is then authorized again from the PBX's account of it (`call`: answered `billableMillis` before now, as if
    /// it had just ended) and settled, so an answered call is billed and an unanswered one is in the call log.
    /// Returns nil when it cannot be (outside the grace period, a call known or settled, or one no longer
    /// allowed, which is logged as denied): the End is then for an unknown call.
    public func endedLost(_ call: ClaimedCall, billableMillis: Int64, cause: String) async throws
        -> PendingSettlement?
    {
        // Checked before the call is authorized again, so that the End cannot fail after it and leave it live.
        try Self.validateEnd(billableMillis: billableMillis, cause: cause)
        guard acceptsLostCalls, await authorizeLost(call, route: nil) else { return nil }
        return try await endKnown(callID: call.callID, billableMillis: billableMillis, cause: cause)
    }

    private func authorizeLost(_ call: ClaimedCall, route: (any CallRoute)?) async -> Bool {
        guard (0...Self.maxBillableMillis).contains(call.answeredMillisAgo) else { return false }
        let now = context.nowMillis()
        // An answered call is taken as authorized at its answer: its authorization instant was lost.
        let at = call.answered ? now - call.answeredMillisAgo : now
        let request = CallRequest(callID: call.callID, extensionNumber: call.extensionNumber, dialled: call.dialled,
                                  at: at, secondOfDay: context.secondOfDay(epochMillis: at))
        guard (try? request.validate()) != nil else { return false }
        // Registered first: catching up its charges may push a renewal or a cutoff for it, which needs its route.
        let claimed: ExtensionActor? = registry.withLock { registry in
            guard registry.callOwners[call.callID] == nil, !registry.recentlyEnded.contains(call.callID),
                let actor = registry.accounts[call.extensionNumber]
            else { return nil }
            registry.callOwners[call.callID] = EngineRegistry.CallOwner(actor: actor, route: route)
            return actor
        }
        guard let actor = claimed else { return false }
        let allowed = await actor.authorizeLost(request, answered: call.answered)
        if !allowed { registry.withLock { $0.callOwners[call.callID] = nil } }
        return allowed
    }
}

extension ExtensionActor {
    /// A known call a reconnected PBX claims (``MeteringEngine/resync(_:route:)``), in one step: a cutoff made
    /// while the PBX was away is pushed again (not counted as a new cutoff, nor its lateness), a restored call
    /// resumes, and a call still ringing here that the PBX answered `answeredMillisAgo` ago is answered then
    /// (never before its authorization). Charges due by now are taken, and an answered call's grant is pushed
    /// as it now stands.
    func reclaim(callID: String, answeredMillisAgo: Int64?) {
        guard let call = book.call(callID) else { return }
        if let boundary = call.cutAt {
            context.emitAgain([.cutoff(callID: callID, extensionNumber: number, boundary: boundary,
                                       reason: .insufficientFunds)])
        }
        let now = context.nowMillis()
        let policy = context.policyBox.policy
        var events = book.resume(callIDs: [callID], at: now, policy: policy)
        if let millisAgo = answeredMillisAgo {
            let answeredAt = now - min(max(0, millisAgo), now - call.authorizedAt)
            events += (try? book.answer(callID: callID, at: answeredAt, policy: policy)) ?? []
            events += book.advance(to: now, policy: policy)
        }
        afterChange(events: events, at: now, policy: policy, movingLater: answeredMillisAgo != nil)
        restateGrant(callID, unlessIn: events)
    }

    /// Pushes an answered, uncut call's grant as the engine now has it, after a resync. The PBX may hold another
    /// one: a renewal pushed to the connection that was lost, or, for a call authorized again after a restart,
    /// the grant of the authorization the restart lost. Not counted as a renewal: nothing was renewed.
    func restateGrant(_ callID: String, unlessIn events: [BillingEvent]) {
        guard let call = book.call(callID), call.isAnswered, call.cutAt == nil,
            !events.contains(where: { if case .grantRenewed(callID, _, _) = $0 { true } else { false } })
        else { return }
        context.emitAgain([.grantRenewed(callID: callID, extensionNumber: number, deadline: call.grantDeadline)])
    }

    /// Authorizes again a call a restart lost (``MeteringEngine/resync(_:route:)``), answered at `request.at`
    /// when `answered`. Charges due by now are taken first, so the decision sees the balance as it is now; an
    /// answered call's new grant is pushed (the PBX holds the lost authorization's), and a ringing one's when it
    /// is answered.
    func authorizeLost(_ request: CallRequest, answered: Bool) -> Bool {
        guard !book.settledRecently(request.callID) else { return false }
        let now = context.nowMillis()
        let policy = context.policyBox.policy
        var events = book.advance(to: now, policy: policy)
        let decision = book.authorize(request, policy: policy, rates: context.rates)
        if case .denied(let reason) = decision {
            _ = context.journal.append(.denied(book.deniedRecord(request, reason: reason)), checkpoint: nil)
        } else if answered {
            events += (try? book.answer(callID: request.callID, at: request.at, policy: policy)) ?? []
            events += book.advance(to: now, policy: policy)
        }
        afterChange(events: events, at: now, policy: policy, movingLater: answered)
        if decision.isAllowed {
            if answered { restateGrant(request.callID, unlessIn: events) } else { grantsToRestate.insert(request.callID) }
        }
        return decision.isAllowed
    }
}
