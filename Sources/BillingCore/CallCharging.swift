/// One call's charging state: authorize → answered → charging → cut/ended → settled.
///
/// An I/O-free value: it knows its tariff snapshot, what it has paid and when its next charge falls due.
/// Paying needs the extension's shared balance, so ``AccountBook`` drives it; the transitions here guard
/// against repeats (a second answer is a no-op, a charge after a cut is impossible).
public struct CallCharging: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        case authorized
        /// Answered; charging while billed.
        case answered
        /// Could not pay the charge due at `boundary`; waiting for the PBX to report the end.
        case cut(boundary: Int64)
        case settled
    }

    public let callID: String
    public let extensionNumber: String
    public let dialled: String
    /// The rate snapshot; nil when the call is unbilled.
    public let rate: RateSnapshot?
    public let unbilledReason: UnbilledReason?
    /// True when the current grant ends where the money does, so new money renews it at once.
    public var grantCappedByMoney: Bool
    private var phaseCode: PhaseCode
    /// Whether anything a checkpoint stores (answer, charges, cut, billing stop, suspension) changed since
    /// the extension's last checkpoint: the ledger rewrites only the calls that did (a new call has).
    public private(set) var changedSinceCheckpoint = true
    /// Whether a checkpoint ever carried the call, so that it may have a live-call row (a restored call has one).
    public private(set) var stored = false
    public let authorizedAt: Int64
    /// Charges paid so far (charge 0 is the answer charge).
    public private(set) var chargesMade: Int64
    /// Money taken so far.
    public private(set) var charged: Money
    // Instants stored with `Int64.min` for "none": a million live calls each carry eight of them, and an
    // `Int64?` takes 16 bytes in a struct where this takes 8.
    private var answeredAtRaw: Int64 = .min
    private var cutAtRaw: Int64 = .min
    private var billingStoppedAtRaw: Int64 = .min
    private var grantDeadlineRaw: Int64 = .min
    private var warnedForRaw: Int64 = .min
    private var projectedCutoffRaw: Int64 = .min
    private var suspendedAtRaw: Int64 = .min
    /// Cached: read for every call at every wake-up, and deriving it means unwrapping the rate snapshot.
    private var nextChargeAtRaw: Int64 = .min

    private enum PhaseCode: UInt8 { case authorized, answered, cut, settled }

    public var phase: Phase {
        switch phaseCode {
        case .authorized: .authorized
        case .answered: .answered
        case .cut: .cut(boundary: cutAtRaw)
        case .settled: .settled
        }
    }

    public var answeredAt: Int64? { Self.optional(answeredAtRaw) }
    /// Set when billing was switched off for the extension mid-call: nothing accrues after it.
    public var billingStoppedAt: Int64? { Self.optional(billingStoppedAtRaw) }
    /// The PBX's grant deadline, ms since the epoch; nil is unlimited, or not started: a ringing call's grant
    /// starts at its answer (``holdAuthorizedGrant(_:cappedByMoney:)``).
    public var grantDeadline: Int64? {
        get { phaseCode == .authorized ? nil : Self.optional(grantDeadlineRaw) }
        set { grantDeadlineRaw = newValue ?? .min }
    }
    /// The projected cutoff a warning was already sent for.
    public var warnedFor: Int64? {
        get { Self.optional(warnedForRaw) }
        set { warnedForRaw = newValue ?? .min }
    }
    /// When the call will be cut if no money arrives (nil: not within the projection's horizon).
    public var projectedCutoff: Int64? {
        get { Self.optional(projectedCutoffRaw) }
        set { projectedCutoffRaw = newValue ?? .min }
    }
    /// Set while the call is restored after a restart and not yet claimed by a PBX: the last instant it was
    /// known to be live. No charges accrue until a PBX claims it.
    public internal(set) var suspendedAt: Int64? {
        get { Self.optional(suspendedAtRaw) }
        set {
            suspendedAtRaw = newValue ?? .min
            changedSinceCheckpoint = true
            updateNextCharge()
        }
    }

    private static func optional(_ raw: Int64) -> Int64? { raw == .min ? nil : raw }

    /// A newly authorized call.
    public init(callID: String, extensionNumber: String, dialled: String, rate: RateSnapshot?,
                unbilledReason: UnbilledReason?, authorizedAt: Int64) {
        self.callID = callID
        self.extensionNumber = extensionNumber
        self.dialled = dialled
        self.rate = rate
        self.unbilledReason = unbilledReason
        self.authorizedAt = authorizedAt
        self.phaseCode = .authorized
        self.chargesMade = 0
        self.charged = .zero
        self.grantCappedByMoney = false
    }

    /// A call restored from a checkpoint after a restart, as it was then: a call that was being metered still
    /// is (``AccountBook/suspendLive(lastSeenAt:)`` suspends it once its charges since are re-derived).
    public init(restoring callID: String, extensionNumber: String, dialled: String, rate: RateSnapshot?,
                unbilledReason: UnbilledReason?, authorizedAt: Int64, answeredAt: Int64?, chargesMade: Int64,
                charged: Money, cutAt: Int64?, billingStoppedAt: Int64? = nil, suspendedAt: Int64? = nil) {
        self.init(callID: callID, extensionNumber: extensionNumber, dialled: dialled, rate: rate,
                  unbilledReason: unbilledReason, authorizedAt: authorizedAt)
        self.answeredAtRaw = answeredAt ?? .min
        self.chargesMade = chargesMade
        self.charged = charged
        if let cutAt {
            phaseCode = .cut
            cutAtRaw = cutAt
        } else if answeredAt != nil {
            phaseCode = .answered
        }
        self.billingStoppedAtRaw = billingStoppedAt ?? .min
        self.suspendedAtRaw = suspendedAt ?? .min
        self.stored = true
        updateNextCharge()
    }

    /// Restored after a restart and not yet claimed by a PBX.
    public var suspended: Bool { suspendedAt != nil }

    public var isBilled: Bool { rate != nil }
    public var isAnswered: Bool { answeredAt != nil }

    /// How long a new call may ring before a checkpoint must store it. Most unanswered calls end sooner (busy,
    /// no answer, the caller giving up), and their live-call row, written and deleted a few milliseconds later,
    /// was most of the ledger's work for them. A call answered sooner is stored with its answer. A crash loses
    /// only calls that started ringing less than this before it: no money moved for them, and the PBX's resync
    /// learns they are unknown.
    public static let ringingStoreDelayMillis: Int64 = 1_000

    /// When this call, ringing and never stored, must be stored; nil when it needs no delay (answered, already
    /// stored, or restored after a restart).
    var ringingStoreDue: Int64? {
        guard !stored, phaseCode == .authorized, suspendedAtRaw == .min, billingStoppedAtRaw == .min else { return nil }
        return authorizedAt &+ Self.ringingStoreDelayMillis
    }

    /// Whether a checkpoint taken at `now` must carry this call: it changed, and it is not a new call still
    /// within its ringing delay (``ringingStoreDelayMillis``).
    func mustBeStored(at now: Int64) -> Bool {
        guard changedSinceCheckpoint else { return false }
        guard let due = ringingStoreDue else { return true }
        return now >= due
    }

    /// The boundary at which the call was cut, if it was.
    public var cutAt: Int64? { phaseCode == .cut ? cutAtRaw : nil }

    /// Whether the call is accruing charges now.
    public var isCharging: Bool {
        phaseCode == .answered && rate != nil && billingStoppedAtRaw == .min && suspendedAtRaw == .min
    }

    /// The instant the next charge falls due, or nil when none will (unbilled, cut, free-running).
    public var nextChargeAt: Int64? { Self.optional(nextChargeAtRaw) }

    private mutating func updateNextCharge() {
        nextChargeAtRaw = .min
        guard isCharging, let tariff = rate?.tariff else { return }
        if chargesMade > 0 && !tariff.hasRecurringCharges { return }
        let offset = tariff.chargeOffset(index: chargesMade)
        let (at, overflow) = answeredAtRaw.addingReportingOverflow(offset)
        if !overflow, offset != .max, at != .min { nextChargeAtRaw = at }
    }

    /// The amount of the next charge.
    public var nextChargeAmount: Money { rate?.tariff.chargeAmount(index: chargesMade) ?? .zero }

    /// Marks the call answered; false when it already was (a repeated Answered changes nothing).
    public mutating func answer(at instant: Int64) -> Bool {
        guard phaseCode == .authorized else { return false }
        phaseCode = .answered
        answeredAtRaw = max(instant, authorizedAt)
        // The PBX counts the grant of its authorization from its answer.
        if grantDeadlineRaw != .min { grantDeadlineRaw &+= answeredAtRaw &- authorizedAt }
        changedSinceCheckpoint = true
        updateNextCharge()
        return true
    }

    /// Records the grant the PBX was given with its authorization, which it counts from its answer: the answer
    /// then renews nothing that did not change (an answered call's grant used to be pushed again at once, one
    /// push and one acknowledgement per call restating what the PBX already held). While the call rings, the
    /// deadline is kept as if it had been answered at its authorization.
    mutating func holdAuthorizedGrant(_ millis: Int64, cappedByMoney: Bool) {
        guard phaseCode == .authorized else { return }
        grantDeadlineRaw = authorizedAt &+ millis
        grantCappedByMoney = cappedByMoney
    }

    /// Records that the next charge was paid.
    mutating func recordCharge() {
        charged = Money(micros: charged.micros &+ nextChargeAmount.micros)
        chargesMade += 1
        changedSinceCheckpoint = true
        updateNextCharge()
    }

    /// Cuts the call at the boundary of its unpaid charge.
    mutating func cut(at boundary: Int64) {
        guard phaseCode == .answered else { return }
        phaseCode = .cut
        cutAtRaw = boundary
        changedSinceCheckpoint = true
        grantDeadline = boundary
        updateNextCharge()
    }

    /// Stops accruing charges (billing switched off for the extension).
    mutating func stopBilling(at instant: Int64) {
        guard billingStoppedAtRaw == .min else { return }
        billingStoppedAtRaw = instant
        changedSinceCheckpoint = true
        grantDeadline = nil
        updateNextCharge()
    }

    /// The call is in a checkpoint as it is now.
    mutating func markCheckpointed() {
        changedSinceCheckpoint = false
        stored = true
    }

    mutating func markSettled() {
        phaseCode = .settled
        updateNextCharge()
    }

    /// The billable duration settlement may use: the PBX's report capped by what the engine observed plus
    /// the tolerance, by the cutoff boundary and by the instant billing stopped.
    public func billableCap(reportedMillis: Int64, endedAt: Int64, toleranceMillis: Int64) -> Int64 {
        guard let answeredAt else { return 0 }
        var d = min(max(0, reportedMillis), max(0, endedAt - answeredAt) &+ toleranceMillis)
        if let cutAt { d = min(d, cutAt - answeredAt) }
        if let billingStoppedAt { d = min(d, billingStoppedAt - answeredAt) }
        return max(0, d)
    }
}
