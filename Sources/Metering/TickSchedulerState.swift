/// The tick scheduler's wheel and plan, under its lock.
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
