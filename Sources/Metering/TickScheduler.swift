import Synchronization

/// The one timer for every live call: a hashed wheel of 1 ms slots, woken by an injected clock.
///
/// Each extension actor keeps one entry for its next due instant (a charge, a warning, a grant renewal).
/// Every millisecond the scheduler takes the due entries and wakes their actors in chunks, the chunks in
/// parallel, so one slot with many due extensions spreads over the cores instead of queueing behind one
/// task. There is no task per call: that design collapses at 100,000 calls.
public final class TickScheduler<C: Clock>: Sendable where C.Duration == Duration {
    public let time: EngineTime<C>
    public let stats = TickStats()
    private let wheel: Mutex<TimerWheel<ExtensionActor>>
    private let chunkSize: Int

    public init(time: EngineTime<C>, chunkSize: Int = 512) {
        self.time = time
        self.chunkSize = chunkSize
        self.wheel = Mutex(TimerWheel(start: time.nowMillis()))
    }

    /// Wakes `target` at the engine instant `at` (ms since the epoch).
    func schedule(_ target: ExtensionActor, at: Int64) {
        wheel.withLock { $0.insert(target, at: at) }
    }


    /// Runs every wake-up due by now and returns when all of them have run.
    public func fireDue() async {
        let now = time.nowMillis()
        let due = wheel.withLock { wheel -> [TimerWheel<ExtensionActor>.Entry] in
            var due: [TimerWheel<ExtensionActor>.Entry] = []
            wheel.takeDue(upTo: now, into: &due)
            return due
        }
        guard !due.isEmpty else { return }
        if due.count <= chunkSize {
            await run(due[...])
            return
        }
        await withDiscardingTaskGroup { group in
            var start = 0
            while start < due.count {
                let chunk = due[start..<min(start + chunkSize, due.count)]
                group.addTask { await self.run(chunk) }
                start += chunkSize
            }
        }
    }

    private func run(_ chunk: ArraySlice<TimerWheel<ExtensionActor>.Entry>) async {
        var lateness: [Int64] = []
        lateness.reserveCapacity(chunk.count)
        var again: [TimerWheel<ExtensionActor>.Entry] = []
        again.reserveCapacity(chunk.count)
        for entry in chunk {
            let (late, next) = await entry.target.wake(firedFor: entry.at)
            lateness.append(late)
            if let next { again.append(.init(at: next, target: entry.target)) }
        }
        if !again.isEmpty {
            wheel.withLock { wheel in
                for entry in again { wheel.insert(entry.target, at: entry.at) }
            }
        }
        stats.record(latenessMicros: lateness, nowMillis: time.nowMillis())
    }

    /// Fires due work every millisecond until cancelled.
    public func run() async throws {
        while true {
            try Task.checkCancellation()
            await fireDue()
            try await time.sleep(untilEpochMillis: time.nowMillis() + 1)
        }
    }
}
