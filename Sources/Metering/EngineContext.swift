import AsyncBatching
import BillingCore
import Foundation
import Journal
import Logging
import Synchronization

/// What every extension actor shares: settings, rates, the journal, the scheduler, time and the event sink.
final class EngineContext: Sendable {
    let journal: any BillingJournal
    let logger: Logger
    let nowMillis: @Sendable () -> Int64
    let nowMicros: @Sendable () -> Int64
    private let events: BatchQueue<BillingEvent>
    private let settings: Mutex<Settings>
    let schedule: @Sendable (ExtensionActor, Int64) -> Void
    /// Moves an actor's pending wake-up to a later instant; false when it was already taken to run.
    let move: @Sendable (ExtensionActor, _ from: Int64, _ to: Int64) -> Bool
    let stats = EngineStats()

    struct Settings {
        var policy: BillingPolicy {
            get { policyBox.policy }
            set { policyBox = PolicyBox(newValue) }
        }
        /// Read on every tick: kept boxed so a read is one retain, not a copy of the whole struct.
        var policyBox: PolicyBox
        var rates: RateTable
        var timeZone: TimeZone
    }

    /// An immutable policy snapshot.
    final class PolicyBox: Sendable {
        let policy: BillingPolicy
        init(_ policy: BillingPolicy) { self.policy = policy }
    }

    init(journal: any BillingJournal, logger: Logger, policy: BillingPolicy, rates: RateTable, timeZone: TimeZone,
         nowMillis: @escaping @Sendable () -> Int64, nowMicros: @escaping @Sendable () -> Int64,
         events: BatchQueue<BillingEvent>,
         schedule: @escaping @Sendable (ExtensionActor, Int64) -> Void,
         move: @escaping @Sendable (ExtensionActor, Int64, Int64) -> Bool) {
        self.journal = journal
        self.logger = logger
        self.nowMillis = nowMillis
        self.nowMicros = nowMicros
        self.events = events
        self.schedule = schedule
        self.move = move
        self.settings = Mutex(Settings(policyBox: PolicyBox(policy), rates: rates, timeZone: timeZone))
    }

    var policy: BillingPolicy { settings.withLock { $0.policy } }
    var policyBox: PolicyBox { settings.withLock { $0.policyBox } }
    var rates: RateTable { settings.withLock { $0.rates } }
    var timeZone: TimeZone { settings.withLock { $0.timeZone } }

    func update(_ body: (inout Settings) -> Void) { settings.withLock { body(&$0) } }

    /// Local time of day of an engine instant, in the rate time zone.
    func secondOfDay(epochMillis: Int64) -> Int {
        let zone = timeZone
        let seconds = epochMillis / 1000
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let local = (seconds + offset) % 86_400
        return Int(local < 0 ? local + 86_400 : local)
    }

    func emit(_ events: [BillingEvent]) {
        stats.recordEmitted(events, nowMicros: nowMicros)
        self.events.offer(contentsOf: events)
    }

    /// Pushes events again that were counted when first emitted (a cutoff repeated after a resync).
    func emitAgain(_ events: [BillingEvent]) { self.events.offer(contentsOf: events) }

    func finishEvents() { events.finish() }
}
