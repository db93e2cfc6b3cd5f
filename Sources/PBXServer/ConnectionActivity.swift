import Synchronization

/// When a connection last delivered a whole frame, in engine milliseconds, and how long it may stay silent.
final class ConnectionActivity: Sendable {
    private let lastFrameAt: Atomic<Int64>
    /// Three heartbeat intervals: this also catches a client that sent half a frame and waits.
    let timeoutMillis: Int64

    init(now: Int64, timeoutMillis: Int64) {
        lastFrameAt = Atomic(now)
        self.timeoutMillis = timeoutMillis
    }

    func touch(_ now: Int64) { lastFrameAt.store(now, ordering: .relaxed) }

    /// The instant the connection counts as idle unless a frame comes first.
    var idleAt: Int64 { lastFrameAt.load(ordering: .relaxed) + timeoutMillis }
}
