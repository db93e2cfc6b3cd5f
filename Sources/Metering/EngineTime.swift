/// Reads and waits on an injected `Clock`, expressing instants as milliseconds since the Unix epoch.
///
/// The billing domain works in epoch milliseconds so that instants survive a restart and mean the same to
/// the PBX and the ledger. The clock's instant at `init` is pinned to `originEpochMillis`; later instants are
/// that plus the clock's elapsed time, so a monotonic clock gives a monotonic timeline.
public struct EngineTime<C: Clock>: Sendable where C.Duration == Duration {
    public let clock: C
    private let origin: C.Instant
    private let originEpochMillis: Int64

    public init(clock: C, originEpochMillis: Int64) {
        self.clock = clock
        self.origin = clock.now
        self.originEpochMillis = originEpochMillis
    }

    /// Now, in ms since the Unix epoch.
    public func nowMillis() -> Int64 {
        originEpochMillis + Self.millis(origin.duration(to: clock.now))
    }

    /// Now, in µs since the Unix epoch (for measuring lateness below a millisecond).
    public func nowMicros() -> Int64 {
        let (seconds, attoseconds) = origin.duration(to: clock.now).components
        return originEpochMillis * 1000 + seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// The clock instant of an epoch-millisecond instant.
    public func instant(epochMillis: Int64) -> C.Instant {
        origin.advanced(by: .milliseconds(epochMillis - originEpochMillis))
    }

    /// Sleeps until the epoch-millisecond instant `millis`.
    public func sleep(untilEpochMillis millis: Int64) async throws {
        try await clock.sleep(until: instant(epochMillis: millis), tolerance: nil)
    }

    static func millis(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
