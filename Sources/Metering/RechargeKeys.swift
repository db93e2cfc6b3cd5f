import BillingCore
import Journal
import Synchronization

/// Makes a retried recharge apply once: remembers which idempotency keys are in progress or done.
///
/// A key in progress answers `FAILED_PRECONDITION` (the first attempt is still running); a finished key
/// replays its record; a key reused for another extension or amount is refused. Keys that fell out of memory
/// are still found in the ledger by the engine.
final class RechargeKeys: Sendable {
    enum Claim {
        case proceed
        case replay(RechargeRecord)
    }

    private enum State {
        case inProgress(String)
        case done(RechargeRecord)
    }

    private struct Store {
        var states: [String: State] = [:]
        /// Finished keys, oldest first, from `head` on; the evicted prefix is dropped in one move now and then,
        /// since removing the first of 100,000 keys at every recharge would move the whole array each time.
        var order: [String] = []
        var head = 0
    }

    private let store = Mutex(Store())
    private let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    static func fingerprint(_ number: String, _ amount: Money) -> String { "\(number)|\(amount.micros)" }

    func claim(_ key: String, number: String, amount: Money) throws(TollgateError) -> Claim {
        let fingerprint = Self.fingerprint(number, amount)
        return try store.withLock { store throws(TollgateError) -> Claim in
            switch store.states[key] {
            case .inProgress(let other):
                guard other == fingerprint else { throw Self.reused }
                throw TollgateError(.failedPrecondition, "a recharge with this idempotency key is in progress",
                                    field: "idempotencyKey")
            case .done(let record):
                guard Self.fingerprint(record.extensionNumber, record.amount) == fingerprint else { throw Self.reused }
                return .replay(record)
            case nil:
                store.states[key] = .inProgress(fingerprint)
                return .proceed
            }
        }
    }

    func finish(_ key: String, record: RechargeRecord?) {
        store.withLock { store in
            guard let record else {
                store.states[key] = nil
                return
            }
            store.states[key] = .done(record)
            store.order.append(key)
            if store.order.count - store.head > capacity {
                let evicted = store.order[store.head]
                store.head += 1
                if case .done = store.states[evicted] { store.states[evicted] = nil }
                if store.head >= capacity {
                    store.order.removeFirst(store.head)
                    store.head = 0
                }
            }
        }
    }

    static func check(_ record: RechargeRecord, number: String, amount: Money) throws(TollgateError) {
        guard fingerprint(record.extensionNumber, record.amount) == fingerprint(number, amount) else { throw reused }
    }

    static let reused = TollgateError(
        .invalidArgument, "idempotency key was already used for a different recharge", field: "idempotencyKey")
}
