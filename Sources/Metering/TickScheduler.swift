import Synchronization

/// The one timer for every live call: a hashed wheel of 1 ms slots, woken by an injected clock.
///
/// Each extension actor keeps one entry for its next due instant (a charge, a warning, a grant renewal).
/// Every millisecond the scheduler takes the due entries and wakes their actors in chunks, the chunks in
/// parallel, so one slot with many due extensions spreads over the cores instead of queueing behind one
/// task. There is no task per call: that design collapses at 100,000 calls.
///
/// The loop ticks every millisecond only while wake-ups are that close together. With nothing due for a while
/// (a few live calls, most of a small PBX's day) it sleeps until the first occupied slot, and with nothing
/// scheduled at all it waits without a timer; a `schedule` for an earlier instant wakes it at once. An idle
/// engine thus costs no CPU instead of a thousand wake-ups a second.
public final class TickScheduler: Sendable {
    public let time: EngineTime
    public let stats = TickStats()
    private let state: Mutex<TickSchedulerState>
    private let chunkSize: Int

    public init(time: EngineTime, chunkSize: Int = 512) {
        self.time = time
        self.chunkSize = chunkSize
        self.state = Mutex(TickSchedulerState(wheel: TimerWheel(start: time.nowMillis())))
    }

    /// Whether the run loop is waiting for something to be scheduled (no timer at all).
    public var isIdle: Bool { state.withLock { $0.plannedWake == .max && $0.waiter != nil } }

    /// The instant the run loop sleeps until when it is not ticking every millisecond (`Int64.max`: until
    /// something is scheduled); nil while it ticks.
    public var plannedWake: Int64? { state.withLock { $0.plannedWake } }

    /// Forgets every pending wake-up. A scheduled extension holds the engine's context, whose `schedule` holds
    /// this scheduler: the cycle is broken here when the engine goes (an engine per test or fuzz input).
    func removeAll() {
        state.withLock { $0.wheel = TimerWheel(start: time.nowMillis()) }
    }

    /// Wakes `target` at the engine instant `at` (ms since the epoch).
    func schedule(_ target: ExtensionActor, at: Int64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.wheel.insert(target, at: at)
            guard let planned = state.plannedWake, at < planned else { return nil }
            state.plannedWake = nil
            return state.takeWaiter()
        }
        waiter?.resume()
    }

    /// Moves `target`'s wake-up at `from` to the later instant `to`, unless it was already taken to run (then
    /// it runs, and its actor plans again). Returns whether it moved.
    func move(_ target: ExtensionActor, from: Int64, to: Int64) -> Bool {
        let (moved, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.wheel.remove(target, at: from) else { return (false, nil) }
            state.wheel.insert(target, at: to)
            // A loop sleeping until the instant just vacated plans again, as it does for an earlier one.
            guard let planned = state.plannedWake, to < planned || planned == from else { return (true, nil) }
            state.plannedWake = nil
            return (true, state.takeWaiter())
        }
        waiter?.resume()
        return moved
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

    /// Fires due work until cancelled: every millisecond while wake-ups are that close, otherwise at the
    /// first occupied slot or when something earlier is scheduled.
    public func run() async throws {
        while true {
            try Task.checkCancellation()
            await fireDue()
            let tick = time.nowMillis() + 1
            let wake = plan(after: tick)
            if wake <= tick {
                try await time.sleep(untilEpochMillis: tick)
            } else if wake == .max {
                await waitForSchedule()
            } else {
                try await sleep(untilEpochMillis: wake)
            }
        }
    }

    /// The instant to wake at; from it on, until the loop wakes, an earlier `schedule` interrupts the sleep.
    /// Planned under the lock, so a `schedule` cannot slip between the look at the wheel and the plan.
    private func plan(after tick: Int64) -> Int64 {
        state.withLock { state in
            let wake = state.wheel.firstOccupied() ?? .max
            state.plannedWake = wake <= tick ? nil : wake
            return wake
        }
    }

    /// Sleeps on the clock until `wake` unless something earlier is scheduled first.
    private func sleep(untilEpochMillis wake: Int64) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.time.sleep(untilEpochMillis: wake) }
            group.addTask { await self.waitForSchedule() }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Returns once a `schedule` interrupts the planned wake, or when the task is cancelled.
    private func waitForSchedule() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = state.withLock { state in
                    // No plan left: a `schedule` already cut it short.
                    guard state.plannedWake != nil, !Task.isCancelled else { return false }
                    state.waiter = continuation
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.takeWaiter() }?.resume()
        }
        state.withLock { $0.plannedWake = nil }
    }
}
