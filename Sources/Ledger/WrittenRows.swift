import BillingCore
import Metering
import Synchronization

/// What the writer last committed for each extension's balance and each live call, so that a checkpoint rewrites
/// only the rows that changed.
///
/// A checkpoint carries every live call of its extension, and most of them are as they were when last written
/// (the other calls of an extension while one is authorized or ends): without this, an unanswered call cost the
/// writer about eight statements, which made it the bottleneck of authorizations. Only the writer changes these
/// rows, one batch at a time; what a batch changes is recorded in ``Changes`` and folded in only once its
/// transaction committed, so a failed batch never leaves a row believed written.
final class WrittenRows: Sendable {
    /// The columns of a live call that change after it is first written.
    struct Call: Equatable {
        var answeredAt: Int64?
        var chargesMade: Int64
        var charged: Int64
        var cutAt: Int64?
        var billingStoppedAt: Int64?
        var suspendedAt: Int64?

        init(_ call: LiveCallCheckpoint) {
            answeredAt = call.answeredAt
            chargesMade = call.chargesMade
            charged = call.charged.micros
            cutAt = call.cutAt
            billingStoppedAt = call.billingStoppedAt
            suspendedAt = call.suspendedAt
        }
    }

    /// An extension's checkpointed columns.
    struct Account: Equatable {
        var balance: Int64
        var totalRecharges: Int64
    }

    /// One batch's writes, known to the cache only after they committed.
    struct Changes {
        fileprivate var calls: [String: Call?] = [:]
        fileprivate var accounts: [String: Account?] = [:]

        mutating func wrote(_ call: Call, id: String) { calls[id] = .some(call) }
        mutating func deleted(callID: String) { calls[callID] = .some(nil) }
        mutating func wrote(_ account: Account, number: String) { accounts[number] = .some(account) }
        /// The extension's row was written by other means (settings saved): its balance must be written again.
        mutating func forget(account number: String) { accounts[number] = .some(nil) }
    }

    private struct State {
        var calls: [String: Call] = [:]
        var accounts: [String: Account] = [:]
    }

    private let state = Mutex(State())

    /// Whether the call's row holds `call` already, counting the batch's own earlier writes.
    func holds(_ call: Call, id: String, after changes: Changes) -> Bool {
        if let pending = changes.calls[id] { return pending == call }
        return state.withLock { $0.calls[id] } == call
    }

    /// Whether the extension's row holds `account` already, counting the batch's own earlier writes.
    func holds(_ account: Account, number: String, after changes: Changes) -> Bool {
        if let pending = changes.accounts[number] { return pending == account }
        return state.withLock { $0.accounts[number] } == account
    }

    /// Folds in a committed batch's writes.
    func committed(_ changes: Changes) {
        state.withLock { state in
            for (id, call) in changes.calls { state.calls[id] = call }
            for (number, account) in changes.accounts { state.accounts[number] = account }
        }
    }
}
