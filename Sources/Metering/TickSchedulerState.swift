/// The tick scheduler's wheel and plan, under its lock.
///
/// Outside the generic ``TickScheduler`` for the reason ``EngineRegistry`` is outside the engine: nested, every
/// `schedule` (one per call at least) looked up the lock's generic metadata at run time.
struct TickSchedulerState {
    var wheel: TimerWheel<ExtensionActor>
    /// The instant the loop sleeps until (`Int64.max`: until something is scheduled); nil while it ticks
    /// every millisecond, and once a `schedule` for an earlier instant has cut the sleep short.
    var plannedWake: Int64?
    /// The loop, waiting for a `schedule` before `plannedWake`.
    var waiter: CheckedContinuation<Void, Never>?

    mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
        defer { waiter = nil }
        return waiter
    }
}
