public import BillingCore

/// What the ledger restores after a restart: an extension and its live calls at their last checkpoint.
public struct RestoredAccount: Sendable {
    public var account: ExtensionAccount
    public var calls: [LiveCallCheckpoint]
    /// Engine time of the last checkpoint: restored calls are known to have lasted at least until then.
    public var checkpointAt: Int64

    public init(account: ExtensionAccount, calls: [LiveCallCheckpoint], checkpointAt: Int64) {
        self.account = account
        self.calls = calls
        self.checkpointAt = checkpointAt
    }
}
