/// The engine's one clock: reads and waits on an injected `Clock`, expressing instants as milliseconds since the
/// Unix epoch.
///
/// The billing domain works in epoch milliseconds so that instants survive a restart and mean the same to
/// the PBX and the ledger. The clock's instant at `init` is pinned to `originEpochMillis`; later instants are
/// that plus the clock's elapsed time, so a monotonic clock gives a monotonic timeline.
///
/// Not generic over the clock: the clock's type is erased here, once, so the engine, its scheduler, the PBX
/// server and the administration are plain types (`ContinuousClock` in `serve`, a manual clock in tests).
public struct EngineTime: Sendable {
    /// µs elapsed since the origin.
    private let elapsedMicros: @Sendable () -> Int64
    /// Sleeps until an instant given in ms since the origin.
    private let sleepUntilElapsed: @Sendable (Int64) async throws -> Void
    private let originEpochMillis: Int64

    public init<C: Clock>(clock: C, originEpochMillis: Int64) where C.Duration == Duration {
        let origin = clock.now
        self.originEpochMillis = originEpochMillis
        self.elapsedMicros = Self.elapsedReader(clock: clock, origin: origin)
        self.sleepUntilElapsed = { millis in
            try await clock.sleep(until: origin.advanced(by: .milliseconds(millis)), tolerance: nil)
        }
    }

    /// Now, in ms since the Unix epoch.
    public func nowMillis() -> Int64 {
        originEpochMillis + elapsedMicros() / 1000
    }

    /// Now, in µs since the Unix epoch (for measuring lateness below a millisecond).
    public func nowMicros() -> Int64 {
        originEpochMillis * 1000 + elapsedMicros()
    }

    /// Reads now in µs since the Unix epoch, without holding on to this value (the scheduler's statistics).
    public var epochMicrosReader: @Sendable () -> Int64 {
        let (origin, elapsed) = (originEpochMillis * 1000, elapsedMicros)
        return { origin + elapsed() }
    }

    /// Reads the time elapsed since `origin`. Reading a clock through its generic type looks up the instant
    /// type's metadata at run time and calls through witness tables, several times per call: for
    /// `ContinuousClock`, the one `serve` runs on, it reads that clock directly.
    private static func elapsedReader<C: Clock>(clock: C, origin: C.Instant) -> @Sendable () -> Int64
    where C.Duration == Duration {
        if let origin = origin as? ContinuousClock.Instant {
            return { micros(ContinuousClock.now - origin) }
        }
        return { micros(origin.duration(to: clock.now)) }
    }

    static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Sleeps until the epoch-millisecond instant `millis`.
    public func sleep(untilEpochMillis millis: Int64) async throws {
        try await sleepUntilElapsed(millis - originEpochMillis)
    }

    /// Sleeps for `duration` of this clock's time.
    public func sleep(for duration: Duration) async throws {
        try await sleep(untilEpochMillis: nowMillis() + Self.micros(duration) / 1000)
    }
}
