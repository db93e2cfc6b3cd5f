public import BillingCore

/// Why a balance changed, as the ledger records it.
public enum PostingKind: String, Sendable, Hashable, Codable, CaseIterable {
    case recharge
    case adjustment
    case settlement
}

/// One ledger row: a change to an extension's ledger balance (its balance plus what its live calls hold).
///
/// Live charges move money from the balance into the call's hold and leave the ledger balance alone; only
/// postings change it. So the ledger, summed, always equals each balance plus its live holds.
public struct LedgerPosting: Sendable, Hashable, Codable {
    public var extensionNumber: String
    public var kind: PostingKind
    /// Signed: positive adds money.
    public var amount: Money
    public var ledgerBalanceBefore: Money
    public var ledgerBalanceAfter: Money
    /// Engine time, ms since the Unix epoch.
    public var at: Int64
    /// The call id for a settlement.
    public var callID: String?

    public init(extensionNumber: String, kind: PostingKind, amount: Money, ledgerBalanceBefore: Money,
                ledgerBalanceAfter: Money, at: Int64, callID: String? = nil) {
        self.extensionNumber = extensionNumber
        self.kind = kind
        self.amount = amount
        self.ledgerBalanceBefore = ledgerBalanceBefore
        self.ledgerBalanceAfter = ledgerBalanceAfter
        self.at = at
        self.callID = callID
    }
}

/// A recharge or adjustment as the recharge history shows it.
public struct RechargeRecord: Sendable, Hashable, Codable {
    public var extensionNumber: String
    public var userName: String
    public var kind: PostingKind
    public var amount: Money
    public var balanceBefore: Money
    public var balanceAfter: Money
    public var at: Int64
    public var operatorName: String
    public var note: String
    public var idempotencyKey: String?

    public init(extensionNumber: String, userName: String, kind: PostingKind, amount: Money, balanceBefore: Money,
                balanceAfter: Money, at: Int64, operatorName: String, note: String, idempotencyKey: String?) {
        self.extensionNumber = extensionNumber
        self.userName = userName
        self.kind = kind
        self.amount = amount
        self.balanceBefore = balanceBefore
        self.balanceAfter = balanceAfter
        self.at = at
        self.operatorName = operatorName
        self.note = note
        self.idempotencyKey = idempotencyKey
    }
}

/// A change that must be durable, in the order the engine made it.
public enum JournalEntry: Sendable, Hashable {
    /// An extension was created or its settings changed (the balance itself travels in checkpoints).
    case extensionSaved(ExtensionAccount)
    case recharged(RechargeRecord, LedgerPosting)
    case settled(CallRecord, LedgerPosting?)
    /// A refused call, for the call log.
    case denied(CallRecord)
    case rateSaved(Rate)
    case rateDeleted(id: Int64)
    /// The billing policy changed (the ledger stores it under ``SettingKey/policy``, in a form of its own).
    case policySaved(BillingPolicy)
    /// A setting the engine keeps as text (the time zone, the currency…) by key.
    case settingSaved(key: String, value: String)
}

extension JournalEntry {
    /// The call a settlement ends (its live row goes, and no checkpoint may bring it back).
    public var settledCallID: String? {
        if case .settled(let record, _) = self { record.callID } else { nil }
    }

    /// The extension whose balance or calls the entry changes, if any.
    public var extensionNumber: String? {
        switch self {
        case .extensionSaved(let account): account.number
        case .recharged(let record, _): record.extensionNumber
        case .settled(let record, _): record.extensionNumber
        case .denied, .rateSaved, .rateDeleted, .policySaved, .settingSaved: nil
        }
    }
}

/// A live call as checkpointed: enough to restore it after a crash.
public struct LiveCallCheckpoint: Sendable, Hashable, Codable {
    public var callID: String
    public var dialled: String
    public var rate: RateSnapshot?
    public var unbilledReason: UnbilledReason?
    public var authorizedAt: Int64
    public var answeredAt: Int64?
    public var chargesMade: Int64
    public var charged: Money
    public var cutAt: Int64?
    public var billingStoppedAt: Int64?
    /// Set for a restored call no PBX has claimed yet: the last instant it was known to be live.
    public var suspendedAt: Int64?

    public init(_ call: CallCharging) {
        callID = call.callID
        dialled = call.dialled
        rate = call.rate
        unbilledReason = call.unbilledReason
        authorizedAt = call.authorizedAt
        answeredAt = call.answeredAt
        chargesMade = call.chargesMade
        charged = call.charged
        cutAt = call.cutAt
        billingStoppedAt = call.billingStoppedAt
        suspendedAt = call.suspendedAt
    }

    /// The call, rebuilt for the extension `number`.
    public func restore(extensionNumber number: String) -> CallCharging {
        CallCharging(restoring: callID, extensionNumber: number, dialled: dialled, rate: rate,
                     unbilledReason: unbilledReason, authorizedAt: authorizedAt, answeredAt: answeredAt,
                     chargesMade: chargesMade, charged: charged, cutAt: cutAt, billingStoppedAt: billingStoppedAt,
                     suspendedAt: suspendedAt)
    }
}

/// The live state of one extension as it changed since its previous checkpoint: its balance, and the live
/// calls that changed. The ledger stores it over what it has: the calls not carried are stored as they are
/// (each changed call was carried by the checkpoint it changed before), and the balance row is rewritten only
/// when the balance moved.
///
/// Taken at every change except a paid charge (see ``AccountBook/revision``): what the calls charge after it
/// is re-derived at recovery up to the instant the journal last recorded the engine metering
/// (``BillingJournal/metered(through:)``), which the engine reports before every checkpoint, so the recorded
/// instant is never earlier than a stored checkpoint.
public struct AccountCheckpoint: Sendable, Hashable {
    public var extensionNumber: String
    /// The balance now: always current, stored when ``balanceChanged``.
    public var balance: Money
    public var totalRecharges: Money
    /// Whether the balance or total recharges moved since the previous checkpoint.
    public var balanceChanged: Bool
    /// The live calls that changed since the previous checkpoint (all of them in a full checkpoint).
    public var calls: [LiveCallCheckpoint]
    /// Engine time of the checkpoint.
    public var at: Int64

    /// A full checkpoint: the balance and every live call.
    public init(_ book: AccountBook, at: Int64) {
        extensionNumber = book.account.number
        balance = book.account.balance
        totalRecharges = book.account.totalRecharges
        balanceChanged = true
        calls = book.calls.map(LiveCallCheckpoint.init)
        self.at = at
    }

    /// The changes since the book's previous checkpoint: the calls changed since (marked checkpointed now).
    public init(changesOf book: inout AccountBook, balanceChanged: Bool, at: Int64) {
        extensionNumber = book.account.number
        balance = book.account.balance
        totalRecharges = book.account.totalRecharges
        self.balanceChanged = balanceChanged
        calls = book.takeChangedCalls(at: at).map(LiveCallCheckpoint.init)
        self.at = at
    }

    /// Folds in an older checkpoint of the same extension that was never stored, which this one replaces:
    /// its changed calls that this one does not carry still need storing, except the call `ended` (settled
    /// with this checkpoint: its row is deleted, and must not come back).
    public mutating func absorb(_ older: AccountCheckpoint, ended: String? = nil) {
        balanceChanged = balanceChanged || older.balanceChanged
        guard !older.calls.isEmpty else { return }
        let kept: [LiveCallCheckpoint]
        if calls.count <= 16 {
            // A linear search for the usual few calls: hashing their ids costs more than comparing them.
            kept = older.calls.filter { call in call.callID != ended && !calls.contains { $0.callID == call.callID } }
        } else {
            // A trunk with hundreds of calls must not cost their square on every change.
            let carried = Set(calls.map(\.callID))
            kept = older.calls.filter { $0.callID != ended && !carried.contains($0.callID) }
        }
        if !kept.isEmpty { calls = kept + calls }
    }
}
