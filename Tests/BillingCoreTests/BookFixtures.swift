import BillingCore

let t0: Int64 = 1_700_000_000_000

func account(_ number: String = "8001", balance: String = "0", credit: String = "0", billing: Bool = true,
             status: ExtensionStatus = .unlocked, payment: PaymentType = .prepaid) -> ExtensionAccount {
    ExtensionAccount(number: number, userName: "user \(number)", billingEnabled: billing, paymentType: payment,
                     status: status, balance: money(balance), credit: money(credit))
}

func request(_ id: String, _ dialled: String = "0123456", ext: String = "8001", at: Int64 = t0) -> CallRequest {
    CallRequest(callID: id, extensionNumber: ext, dialled: dialled, at: at, secondOfDay: 12 * 3600)
}

/// A book with one rate `0…` at `rateText` per `unit` seconds, optionally with initial cost/time.
struct Scenario {
    var book: AccountBook
    var rates: RateTable
    var policy = BillingPolicy()

    init(_ account: ExtensionAccount, t: Tariff = tariff("0", 0, "0.02", 1)) {
        book = AccountBook(account: account)
        rates = RateTable(rates: [rate(1, "0", exts: [account.number], t: t)])
    }

    @discardableResult
    mutating func authorize(_ id: String, _ dialled: String = "0123456", at: Int64 = t0) -> Authorization {
        book.authorize(request(id, dialled, ext: book.account.number, at: at), policy: policy, rates: rates)
    }

    @discardableResult
    mutating func answer(_ id: String, at: Int64) throws -> [BillingEvent] {
        try book.answer(callID: id, at: at, policy: policy)
    }

    @discardableResult
    mutating func advance(to at: Int64) -> [BillingEvent] { book.advance(to: at, policy: policy) }

    mutating func end(_ id: String, reported: Int64, at: Int64) throws -> AccountBook.EndOutcome {
        try book.end(callID: id, reportedMillis: reported, cause: "NORMAL_CLEARING", at: at, policy: policy)
    }

    /// Runs the book's own wake-ups up to `limit`, as the scheduler would, collecting events.
    mutating func run(until limit: Int64) -> [BillingEvent] {
        var events: [BillingEvent] = []
        while let wake = book.nextWakeup(policy: policy), wake <= limit {
            events += book.advance(to: wake, policy: policy)
        }
        return events
    }

    var balance: Money { book.account.balance }
}

extension AccountBook.EndOutcome {
    var record: CallRecord? {
        if case .settled(let record, _) = self { return record }
        return nil
    }
}

extension [BillingEvent] {
    var cutoffs: [(String, Int64)] {
        compactMap { if case .cutoff(let id, _, let at, _) = $0 { (id, at) } else { nil } }
    }
    var warnings: [(String, Int64)] {
        compactMap { if case .warning(let id, _, let at, _) = $0 { (id, at) } else { nil } }
    }
    var renewals: [(String, Int64?)] {
        compactMap { if case .grantRenewed(let id, _, let at) = $0 { (id, at) } else { nil } }
    }
}
