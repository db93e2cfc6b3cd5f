/// A call a reconnecting PBX reports still up (design.md §11's resync).
public struct ClaimedCall: Sendable, Hashable {
    public var callID: String
    public var extensionNumber: String
    /// The whole dialled number, as authorized: a call a restart lost is authorized again from it.
    public var dialled: String
    public var answered: Bool
    /// How long ago the PBX answered the call, by its own clock (answered calls; 0: now).
    public var answeredMillisAgo: Int64

    public init(callID: String, extensionNumber: String, dialled: String, answered: Bool,
                answeredMillisAgo: Int64 = 0) {
        self.callID = callID
        self.extensionNumber = extensionNumber
        self.dialled = dialled
        self.answered = answered
        self.answeredMillisAgo = answeredMillisAgo
    }
}
