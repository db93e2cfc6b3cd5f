import Synchronization

/// One connection's bounded queue of pushes waiting for its writer. A PBX that stops reading blocks the writer,
/// the queue reaches its bound, and `offer` says so (the caller then closes the connection).
final class PushQueue: Sendable {
    let stream: AsyncStream<[UInt8]>
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let queued = Atomic<Int>(0)

    init(bound: Int) {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(bound))
    }

    /// Pushes waiting for the writer now.
    var depth: Int { queued.load(ordering: .relaxed) }

    /// Queues a push; false when the queue is full or finished.
    func offer(_ payload: [UInt8]) -> Bool {
        queued.add(1, ordering: .relaxed)
        if case .enqueued = continuation.yield(payload) { return true }
        queued.subtract(1, ordering: .relaxed)
        return false
    }

    /// Called by the writer for each push it takes off the queue.
    func taken() { queued.subtract(1, ordering: .relaxed) }

    func finish() { continuation.finish() }
}
