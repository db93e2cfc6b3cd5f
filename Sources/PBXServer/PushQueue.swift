import Synchronization

/// One connection's bounded queue of pushes waiting for its writer. A PBX that stops reading blocks the writer,
/// the queue reaches its bound, and `offer` says so (the caller then closes the connection).
///
/// The writer takes every queued push at once and writes them with one flush, as the replies are written: a
/// million held calls renew some 33,000 grants a second, and one `write` per push (through an `AsyncStream`,
/// which the standard library leaves unspecialized) was a third of the server's time while it held them.
final class PushQueue: Sendable {
    private struct State {
        var items: [[UInt8]] = []
        var writer: CheckedContinuation<[[UInt8]], Never>?
        var finished = false
    }

    private let state = Mutex(State())
    private let bound: Int

    init(bound: Int) { self.bound = bound }

    /// Pushes waiting for the writer now.
    var depth: Int { state.withLock { $0.items.count } }

    /// Queues a push; false when the queue is full or finished.
    func offer(_ payload: [UInt8]) -> Bool {
        let (writer, accepted) = state.withLock { state -> (CheckedContinuation<[[UInt8]], Never>?, Bool) in
            guard !state.finished, state.items.count < bound else { return (nil, false) }
            if let writer = state.writer {
                state.writer = nil
                return (writer, true)
            }
            state.items.append(payload)
            return (nil, true)
        }
        writer?.resume(returning: [payload])
        return accepted
    }

    /// Every push queued now, in order (waits for at least one); empty once finished or cancelled.
    func nextBatch() async -> [[UInt8]] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (writer: CheckedContinuation<[[UInt8]], Never>) in
                let ready = state.withLock { state -> [[UInt8]]? in
                    if !state.items.isEmpty {
                        let items = state.items
                        state.items = []
                        return items
                    }
                    if state.finished { return [] }
                    state.writer = writer
                    return nil
                }
                if let ready { writer.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }

    /// No more pushes: a waiting writer gets an empty batch; later offers are refused.
    func finish() {
        let writer = state.withLock { state -> CheckedContinuation<[[UInt8]], Never>? in
            state.finished = true
            defer { state.writer = nil }
            return state.writer
        }
        writer?.resume(returning: [])
    }
}
