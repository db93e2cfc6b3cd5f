#if canImport(Glibc)
import Glibc
#endif

/// The scheduling priority of the thread that commits a batch: a few nice steps below the process's own.
///
/// On a machine as busy as its cores, the commit (SQLite and the kernel's page writes: a third of the CPU at
/// full load) otherwise takes time slices from the threads that answer the PBX, and an authorization waits
/// behind it. Lowered, the commit runs on what the request path leaves; it still runs (a nice value weighs the
/// share, it does not starve), acknowledgements still wait for it, so nothing acknowledged changes. On Linux the
/// nice value belongs to a thread: the ledger's writer and the call log's indexer each run on a thread of their
/// own, which lowers itself once when it starts.
///
/// Why not GRDB's `writeTargetQueue` with a lower QoS: libdispatch on Linux maps a QoS to an absolute nice value
/// (GRDB's default `userInitiated` is -2, which as root puts the writer above the request path; `utility` is 2,
/// `background` 10), ignoring the process's own nice. Back to back, `utility` made a 5,000-CPS authorize p99 of
/// 755–779 µs against 639–707 µs with five steps here.
struct CommitPriority: Sendable {
    /// The nice value commits run at.
    let nice: Int32

    /// `steps` below the nice value of the thread creating it (the process's, at start-up), at most 19.
    init(steps: Int32) {
        #if os(Linux)
        nice = min(CommitPriority.currentNice() + max(steps, 0), 19)
        #else
        nice = 0
        #endif
    }

    /// Lowers the calling thread to ``nice`` unless it is there already (raising it back is not allowed to an
    /// unprivileged process, and not needed: the threads only ever run commits). Returns the thread's nice value.
    @discardableResult
    func applyToCurrentThread() -> Int32 {
        #if os(Linux)
        let current = CommitPriority.currentNice()
        guard current < nice else { return current }
        // Who 0 with PRIO_PROCESS names the calling thread on Linux (its nice value is per thread).
        guard setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) == 0 else { return current }
        return nice
        #else
        return 0
        #endif
    }

    #if os(Linux)
    private static func currentNice() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }
    #endif
}
