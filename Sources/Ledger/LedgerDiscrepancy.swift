/// A difference `verify` found between the ledger and the balances.
public struct LedgerDiscrepancy: Sendable, Hashable, CustomStringConvertible {
    public var extensionNumber: String
    public var message: String

    public var description: String { "\(extensionNumber): \(message)" }
}
