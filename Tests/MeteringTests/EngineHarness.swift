import BillingCore
import Foundation
import AsyncBatching
import Logging
import Metering
import TestSupport

let t0: Int64 = 1_700_000_000_000

func money(_ text: String) -> Money { try! Money(parsing: text) }

func perSecond(_ rate: String, id: Int64 = 1, prefix: String = "0", exts: Set<String>) -> Rate {
    try! Rate(id: id, prefix: prefix, tariff: Tariff(rate: money(rate), unit: 1), extensions: exts)
}

/// An engine on a manual clock and an in-memory journal.
struct Harness {
    let clock = ManualClock()
    let journal: MemoryJournal
    let engine: MeteringEngine

    init(policy: BillingPolicy = BillingPolicy(), journal: MemoryJournal = MemoryJournal(),
         logger: Logger = Logger(label: "tollgate.metering")) {
        self.journal = journal
        engine = MeteringEngine(clock: clock, originEpochMillis: t0, journal: journal, policy: policy, logger: logger)
    }

    /// A billed prepaid extension with `balance` recharged.
    func billed(_ number: String, balance: String, credit: String = "0") async throws {
        try await engine.setUpBilled(number, balance: money(balance), credit: money(credit))
    }

    /// Extension 8001 billed with `balance` at 0.02 a second, and call "c" authorized on it.
    func billedCall(balance: String) async throws {
        try await billed("8001", balance: balance)
        try await engine.saveRate(perSecond("0.02", exts: ["8001"]))
        _ = try await engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
    }

    /// Moves the clock and runs everything that fell due.
    func advance(ms: Int64) async {
        clock.advance(by: .milliseconds(ms))
        await engine.scheduler.fireDue()
    }

    func balance(_ number: String) async -> Money? { await engine.extensionAccount(number: number)?.balance }
}

/// Reads events already yielded by the engine.
struct EventReader {
    var iterator: BatchQueue<BillingEvent>.AsyncIterator

    init(_ engine: MeteringEngine) { iterator = engine.events.makeAsyncIterator() }

    /// The next `count` events matching `filter` (events already yielded; never waits on time).
    mutating func next(_ count: Int, where filter: (BillingEvent) -> Bool = { _ in true }) async -> [BillingEvent] {
        var found: [BillingEvent] = []
        while found.count < count, let event = await iterator.next() {
            if filter(event) { found.append(event) }
        }
        return found
    }
}

func isCutoff(_ event: BillingEvent) -> Bool { if case .cutoff = event { true } else { false } }
