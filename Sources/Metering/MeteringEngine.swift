public import AsyncBatching
public import BillingCore
public import Foundation
public import Journal
public import Logging
import Synchronization

/// The billing engine in process: authorizes, meters, cuts off and settles calls, and applies recharges and
/// settings, with one actor per extension and one tick scheduler for all live calls.
///
/// Events for the PBX (cutoffs, warnings, grant renewals) come out of ``events``; a consumer must drain it.
/// Settlements are not events: whoever ends a call gets its outcome back (no stream hop per call). What must be
/// durable goes to the injected ``BillingJournal``; calls that acknowledge
/// (`ended`, `recharge`, settings) return only after their entry is committed.
///
/// Its operations are grouped by who calls them: `MeteringEngine+PBX` (a PBX connection), `+Resync` (a PBX that
/// reconnects), `+Administration` (the API, the console, the CLI) and `+Recovery` (start-up after a crash).
public final class MeteringEngine: Sendable {
    /// The longest call a PBX may report; anything longer is refused as absurd.
    public static var maxBillableMillis: Int64 { 31 * 86_400_000 }

    public let scheduler: TickScheduler
    /// Cutoffs, warnings and grant renewals, in the order each extension made them; one consumer drains it.
    public let events: BatchQueue<BillingEvent>
    let context: EngineContext
    let registry = Mutex(EngineRegistry())
    let rechargeKeys = RechargeKeys()

    /// Creates an engine reading time from `clock`, whose current instant is `originEpochMillis`.
    public init<C: Clock>(clock: C, originEpochMillis: Int64, journal: any BillingJournal,
                          policy: BillingPolicy = .init(), rates: RateTable = .init(),
                          timeZone: TimeZone = TimeZone(identifier: "UTC")!,
                          logger: Logger = Logger(label: "tollgate.metering")) where C.Duration == Duration {
        let time = EngineTime(clock: clock, originEpochMillis: originEpochMillis)
        let scheduler = TickScheduler(time: time)
        let events = BatchQueue<BillingEvent>()
        self.scheduler = scheduler
        self.events = events
        self.context = EngineContext(
            journal: journal, logger: logger, policy: policy, rates: rates, timeZone: timeZone,
            nowMillis: { [now = time.epochMicrosReader] in now() / 1000 }, nowMicros: time.epochMicrosReader,
            events: events,
            schedule: { actor, at in scheduler.schedule(actor, at: at) },
            move: { actor, from, to in scheduler.move(actor, from: from, to: to) })
    }

    deinit { scheduler.removeAll() }

    /// Decision counts, cutoffs, authorize latency and cutoff lateness.
    public var stats: EngineStats { context.stats }

    /// Engine time now, ms since the Unix epoch.
    public func nowMillis() -> Int64 { context.nowMillis() }

    /// Runs the tick scheduler until cancelled, then ends ``events``.
    public func run() async throws {
        defer { context.finishEvents() }
        try await scheduler.run()
    }
}
