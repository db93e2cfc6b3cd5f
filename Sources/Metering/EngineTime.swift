/// Reads and waits on an injected `Clock`, expressing instants as milliseconds since the Unix epoch.
///
/// The billing domain works in epoch milliseconds so that instants survive a restart and mean the same to
/// the PBX and the ledger. The clock's instant at `init` is pinned to `originEpochMillis`; later instants are
/// that plus the clock's elapsed time, so a monotonic clock gives a monotonic timeline.
public struct EngineTime<C: Clock>: Sendable where C.Duration == Duration {
    public let clock: C
    private let origin: C.Instant
    private let originEpochMillis: Int64
    /// µs elapsed since `origin`.
    private let elapsedMicros: @Sendable () -> Int64

    public init(clock: C, originEpochMillis: Int64) {
        let origin = clock.now
        self.clock = clock
        self.origin = origin
        self.originEpochMillis = originEpochMillis
        self.elapsedMicros = Self.elapsedReader(clock: clock, origin: origin)
    }

    /// Now, in ms since the Unix epoch.
    public func nowMillis() -> Int64 {
        originEpochMillis + elapsedMicros() / 1000
    }

    /// Now, in µs since the Unix epoch (for measuring lateness below a millisecond).
    public func nowMicros() -> Int64 {
        originEpochMillis * 1000 + elapsedMicros()
    }

    /// Reads now in µs since the Unix epoch, without holding on to the clock's generic type: a caller that is
    /// itself generic over the clock reads time through this without any run-time type lookup.
    public var epochMicrosReader: @Sendable () -> Int64 {
        let (origin, elapsed) = (originEpochMillis * 1000, elapsedMicros)
        return { origin + elapsed() }
    }

    /// Reads the time elapsed since `origin`. The engine reads it several times per call, in code compiled once
    /// for any clock, where reading a generic clock looks up the instant type's metadata at run time and calls
    /// through witness tables: for `ContinuousClock`, the one `serve` runs on, it reads that clock directly.
    private static func elapsedReader(clock: C, origin: C.Instant) -> @Sendable () -> Int64 {
        if let origin = origin as? ContinuousClock.Instant {
            return { micros(ContinuousClock.now - origin) }
        }
        return { micros(origin.duration(to: clock.now)) }
    }

    static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// The clock instant of an epoch-millisecond instant.
    public func instant(epochMillis: Int64) -> C.Instant {
        origin.advanced(by: .milliseconds(epochMillis - originEpochMillis))
    }

    /// Sleeps until the epoch-millisecond instant `millis`.
    public func sleep(untilEpochMillis millis: Int64) async throws {
        try await clock.sleep(until: instant(epochMillis: millis), tolerance: nil)
    }
}
