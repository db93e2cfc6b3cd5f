import BillingCore
import Testing

@Suite("Authorization order (design.md §6)")
struct AuthorizationTests {
    enum Expect: Equatable { case billed, unbilled(UnbilledReason), denied(DenyReason) }

    static func outcome(_ a: Authorization) -> Expect {
        switch a {
        case .denied(let reason): .denied(reason)
        case .allowed(let rate, let unbilled, _): rate != nil ? .billed : .unbilled(unbilled!)
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var account: ExtensionAccount
        var dialled = "0123456"
        var active = true
        var noRate: NoRatePolicy = .deny
        var expect: Expect
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "billing deactivated globally beats everything",
             account: account(balance: "0", status: .locked), active: false, expect: .unbilled(.billingInactive)),
        Case(name: "emergency number is free even when locked and broke",
             account: account(status: .locked), dialled: "112", expect: .unbilled(.freeNumber)),
        Case(name: "911 default free", account: account(), dialled: "911", expect: .unbilled(.freeNumber)),
        Case(name: "billing off for the extension: unbilled even when locked",
             account: account(billing: false, status: .locked), expect: .unbilled(.billingOff)),
        Case(name: "locked", account: account(balance: "10", status: .locked), expect: .denied(.locked)),
        Case(name: "no rate", account: account(balance: "10"), dialled: "55555", expect: .denied(.noRate)),
        Case(name: "no rate allowed unbilled by setting", account: account(balance: "10"), dialled: "55555",
             noRate: .allowUnbilled, expect: .unbilled(.noRateAllowed)),
        Case(name: "prepaid with 0 balance and 0 credit", account: account(balance: "0"),
             expect: .denied(.insufficientFunds)),
        Case(name: "prepaid exactly the first charge", account: account(balance: "0.02"), expect: .billed),
        Case(name: "postpaid with no credit: no call", account: account(payment: .postpaid),
             expect: .denied(.insufficientFunds)),
        Case(name: "postpaid with credit", account: account(credit: "5", payment: .postpaid), expect: .billed),
        Case(name: "negative balance covered by credit", account: account(balance: "-1", credit: "1.02"),
             expect: .billed),
        Case(name: "negative balance beyond credit", account: account(balance: "-1", credit: "1.01"),
             expect: .denied(.insufficientFunds)),
    ]

    @Test("each step in order", arguments: cases)
    func order(c: Case) {
        var s = Scenario(c.account)
        s.policy.billingActive = c.active
        s.policy.noRatePolicy = c.noRate
        #expect(Self.outcome(s.authorize("c1", c.dialled)) == c.expect)
    }

    @Test("first charge with initial cost: initialCost plus a unit when initialTime is 0")
    func firstChargeIncludesUnit() {
        var s = Scenario(account(balance: "0.59"), t: tariff("0.50", 0, "0.10", 60))
        #expect(Self.outcome(s.authorize("c1")) == .denied(.insufficientFunds))
        s = Scenario(account(balance: "0.60"), t: tariff("0.50", 0, "0.10", 60))
        #expect(Self.outcome(s.authorize("c1")) == .billed)
        s = Scenario(account(balance: "0.50"), t: tariff("0.50", 30, "0.10", 60))
        #expect(Self.outcome(s.authorize("c1")) == .billed)
    }

    @Test("the grant is what the money buys, capped by the validity window")
    func grant() {
        var s = Scenario(account(balance: "0.05"))
        guard case .allowed(_, _, let grant) = s.authorize("c1") else { Issue.record("denied"); return }
        #expect(grant == 2_000)
        s = Scenario(account(balance: "100"))
        guard case .allowed(_, _, let long) = s.authorize("c1") else { Issue.record("denied"); return }
        #expect(long == s.policy.grantValidityMillis)
        s = Scenario(account(balance: "1"), t: tariff("0.5", 0, "0", 1))
        guard case .allowed(_, _, let free) = s.authorize("c1") else { Issue.record("denied"); return }
        #expect(free == s.policy.grantValidityMillis)
    }

    @Test("unbilled calls carry no grant: they are never cut")
    func unbilledNoGrant() {
        var s = Scenario(account(billing: false))
        #expect(s.authorize("c1") == .allowed(rate: nil, unbilled: .billingOff, grantMillis: nil))
    }

    @Test("a repeated authorize for a live call registers nothing new")
    func repeatedAuthorize() {
        var s = Scenario(account(balance: "1"))
        let first = s.authorize("c1")
        #expect(s.authorize("c1") == first)
        #expect(s.book.calls.count == 1)
    }

    @Test("the rate is snapshotted: later edits affect new calls only")
    func snapshot() throws {
        var s = Scenario(account(balance: "10"))
        s.authorize("c1")
        s.rates = s.rates.upserting(rate(1, "0", exts: ["8001"], t: tariff("0", 0, "1.00", 1)))
        try s.answer("c1", at: t0)
        #expect(s.balance == money("9.98"))
    }

    @Test("request fields are validated", arguments: [
        request("", "123"), request("c", ""), request("c", "12a"), request("c", "1", ext: ""),
        request(String(repeating: "x", count: 129), "1"), request("c", String(repeating: "1", count: 65)),
    ])
    func validation(r: CallRequest) {
        #expect(throws: TollgateError.self) { try r.validate() }
    }
}
