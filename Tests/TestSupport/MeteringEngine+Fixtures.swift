public import BillingCore
public import Metering

extension MeteringEngine {
    /// Creates a billed prepaid extension with `credit` and, when positive, `balance` recharged.
    public func setUpBilled(_ number: String, balance: Money, credit: Money = .zero) async throws {
        try await ensureExtension(number: number, userName: "user \(number)")
        _ = try await updateExtension(number: number, AccountChange(credit: credit, billingEnabled: true))
        if balance.isPositive { _ = try await recharge(number: number, amount: balance, operatorName: "test") }
    }
}
