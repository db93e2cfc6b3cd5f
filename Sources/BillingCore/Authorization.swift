/// Why a call was refused (design.md §6 steps 4–6).
public enum DenyReason: String, Sendable, Hashable, Codable, CaseIterable {
    case locked = "LOCKED"
    case noRate = "NO_RATE"
    case insufficientFunds = "INSUFFICIENT_FUNDS"
}

/// Why an allowed call is not billed (design.md §6 steps 1–3, and the no-rate policy).
public enum UnbilledReason: String, Sendable, Hashable, Codable, CaseIterable {
    case billingInactive = "BILLING_INACTIVE"
    case freeNumber = "FREE_NUMBER"
    case billingOff = "BILLING_OFF"
    case noRateAllowed = "NO_RATE_ALLOWED"
}

/// The answer to an authorization request.
public enum Authorization: Sendable, Hashable {
    /// The call may start. `rate` is the snapshot that bills it (nil when unbilled); `grantMillis` is how long
    /// after answer the PBX may let it run before a renewal (nil: unlimited, the call is never cut).
    case allowed(rate: Rate?, unbilled: UnbilledReason?, grantMillis: Int64?)
    case denied(DenyReason)

    /// True for an allowed call.
    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}

/// Everything authorization needs to know about one request.
public struct CallRequest: Sendable, Hashable {
    public var callID: String
    public var extensionNumber: String
    public var dialled: String
    /// Engine time of the request, in ms since the Unix epoch.
    public var at: Int64
    /// Local time of day (rate time zone) at `at`, in seconds after midnight.
    public var secondOfDay: Int

    public init(callID: String, extensionNumber: String, dialled: String, at: Int64, secondOfDay: Int) {
        self.callID = callID
        self.extensionNumber = extensionNumber
        self.dialled = dialled
        self.at = at
        self.secondOfDay = secondOfDay
    }

    /// Checks ids and numbers for absurd values before anything is decided.
    public func validate() throws(TollgateError) {
        guard (1...128).contains(callID.utf8.count) else {
            throw TollgateError(.invalidArgument, "call id must be 1-128 bytes", field: "callId")
        }
        try ExtensionAccount.validate(number: extensionNumber)
        guard (1...64).contains(dialled.utf8.count),
            dialled.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 42 || $0 == 35 || $0 == 43 })
        else {
            throw TollgateError(.invalidArgument, "dialled number must be 1-64 digits", field: "dialled")
        }
        guard (0..<TimeBlock.secondsPerDay).contains(secondOfDay) else {
            throw TollgateError(.invalidArgument, "time of day out of range", field: "secondOfDay")
        }
    }
}
