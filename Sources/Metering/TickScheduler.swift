import Synchronization

/// The one timer for every live call: a hashed wheel of 1 ms slots, woken by an injected clock.
///
/// Each extension actor keeps one entry for its next due instant (a charge, a warning, a grant renewal).
/// Every millisecond the scheduler takes the due entries and wakes their actors in chunks, the chunks in
/// parallel, so one slot with many due extensions spreads over the cores instead of queueing behind one
/// task. There is no task per call: that design collapses at 100,000 calls.
///
/// With nothing scheduled the loop does not tick: it waits until something is scheduled. An idle engine
/// (no live calls, most of a small PBX's day) then costs no CPU instead of a thousand wake-ups a second.
public final class TickScheduler<C: Clock>: Sendable where C.Duration == Duration {
    public let time: EngineTime<C>
    public let stats = TickStats()
    private let state: Mutex<State>
    private let chunkSize: Int

    private struct State {
        var wheel: TimerWheel<ExtensionActor>
        /// The run loop, waiting because the wheel is empty; resumed by the next `schedule` or a cancel.
        var idle: CheckedContinuation<Void, Never>?

        mutating func takeIdle() -> CheckedContinuation<Void, Never>? {
            defer { idle = nil }
            return idle
        }
    }

    public init(time: EngineTime<C>, chunkSize: Int = 512) {
        self.time = time
        self.chunkSize = chunkSize
        self.state = Mutex(State(wheel: TimerWheel(start: time.nowMillis())))
    }

    /// Whether the run loop is waiting for something to be scheduled (not ticking).
    public var isIdle: Bool { state.withLock { $0.idle != nil } }

    /// Wakes `target` at the engine instant `at` (ms since the epoch).
    func schedule(_ target: ExtensionActor, at: Int64) {
        let idle = state.withLock { state in
            state.wheel.insert(target, at: at)
            return state.takeIdle()
        }
        idle?.resume()
    }

    /// Runs every wake-up due by now and returns when all of them have run.
    public func fireDue() async {
        let now = time.nowMillis()
        let due = state.withLock { state -> [TimerWheel<ExtensionActor>.Entry] in
            var due: [TimerWheel<ExtensionActor>.Entry] = []
            state.wheel.takeDue(upTo: now, into: &due)
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
            state.withLock { state in
                for entry in again { state.wheel.insert(entry.target, at: entry.at) }
            }
        }
        stats.record(latenessMicros: lateness, nowMillis: time.nowMillis())
    }

    /// Fires due work every millisecond until cancelled; waits without ticking while nothing is scheduled.
    public func run() async throws {
        while true {
            try Task.checkCancellation()
            await fireDue()
            await waitWhileEmpty()
            try Task.checkCancellation()
            try await time.sleep(untilEpochMillis: time.nowMillis() + 1)
        }
    }

    /// Returns at once when the wheel holds anything; otherwise when something is scheduled or the task is
    /// cancelled. The check and the wait are one step under the lock, so a `schedule` cannot slip between.
    private func waitWhileEmpty() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = state.withLock { state in
                    guard state.wheel.isEmpty, !Task.isCancelled else { return false }
                    state.idle = continuation
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.takeIdle() }?.resume()
        }
    }
}
