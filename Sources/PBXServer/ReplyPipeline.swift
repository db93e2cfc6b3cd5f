import Metering
import NIOCore
import Synchronization

/// One connection's replies, between the request loop and the reply writer.
///
/// A reply is ready at once, or deferred until a settlement is committed. Ready replies leave in request order;
/// a deferred one leaves when its commit completes (commits complete in order, so settlements' replies keep
/// their order among themselves), possibly after replies to later requests, which is what correlation ids are
/// for. The request loop goes on with the next request meanwhile, so one connection's settlements share group
/// commits and an authorization is never queued behind a disk flush. At most `bound` replies are outstanding
/// (queued or waiting for their commit); beyond that the request loop suspends (and stops reading the socket),
/// so a PBX that floods cannot make the server buffer without end.
final class ReplyPipeline: Sendable {
    enum Item: Sendable {
        case ready([UInt8])
        case deferred(Deferred)
    }

    /// A reply waiting for a commit: encoded already, sent once the commit is done, or replaced by an error
    /// reply when the commit fails.
    struct Deferred: Sendable {
        let payload: [UInt8]
        let commit: JournalCommit
        let correlationID: UInt64

        /// The reply to send, once the commit is done; `failed` makes the reply for a failed commit.
        func reply(failed: (any Error, UInt64) -> [UInt8]) async -> [UInt8] {
            do {
                try await commit.wait()
            } catch {
                return failed(error, correlationID)
            }
            return payload
        }
    }

    private struct State {
        var items = CircularBuffer<Item>()
        var outstanding = 0
        var reader: CheckedContinuation<Item?, Never>?
        var sender: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    private let bound: Int

    init(bound: Int) { self.bound = bound }

    /// Replies queued or waiting for their commit.
    var outstanding: Int { state.withLock { $0.outstanding } }

    /// Queues a reply; suspends while `bound` replies are outstanding. After ``finish()``, drops it.
    func send(_ item: Item) async {
        let (reader, full): (CheckedContinuation<Item?, Never>?, Bool) = state.withLock { state in
            if state.finished { return (nil, false) }
            state.outstanding += 1
            var reader: CheckedContinuation<Item?, Never>?
            if let waiting = state.reader {
                state.reader = nil
                reader = waiting
            } else {
                state.items.append(item)
            }
            return (reader, state.outstanding >= bound)
        }
        reader?.resume(returning: item)
        // Only a full pipeline costs a continuation: this runs for every request.
        guard full else { return }
        await withCheckedContinuation { (room: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state in
                if state.finished || state.outstanding < bound { return true }
                state.sender = room
                return false
            }
            if proceed { room.resume() }
        }
    }

    /// The next reply to write, in request order; nil once finished and drained.
    func next() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let (item, done): (Item?, Bool) = state.withLock { state in
                if let item = state.items.popFirst() { return (item, false) }
                if state.finished { return (nil, true) }
                state.reader = continuation
                return (nil, false)
            }
            if let item { continuation.resume(returning: item) } else if done { continuation.resume(returning: nil) }
        }
    }

    /// Every reply queued now, in request order (at least one: waits for it); empty once finished and drained.
    /// The writer sends them with one flush: one `write` system call for many replies.
    func nextBatch() async -> [Item] {
        guard let first = await next() else { return [] }
        return state.withLock { state in
            var batch = [first]
            while let item = state.items.popFirst() { batch.append(item) }
            return batch
        }
    }

    /// A reply was written (or given up): it no longer counts against the bound.
    func written() {
        let sender: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.outstanding -= 1
            guard state.outstanding < bound, let sender = state.sender else { return nil }
            state.sender = nil
            return sender
        }
        sender?.resume()
    }

    /// No more replies: the writer drains what is queued, a suspended sender is released.
    func finish() {
        let (reader, sender) = state.withLock { state in
            state.finished = true
            let waiting = (state.items.isEmpty ? state.reader : nil, state.sender)
            if state.items.isEmpty { state.reader = nil }
            state.sender = nil
            return waiting
        }
        reader?.resume(returning: nil)
        sender?.resume()
    }

    /// Drops what is queued (the writer failed): nothing more will be written.
    func abandon() {
        let (reader, sender) = state.withLock { state in
            state.finished = true
            state.items.removeAll()
            let waiting = (state.reader, state.sender)
            state.reader = nil
            state.sender = nil
            return waiting
        }
        reader?.resume(returning: nil)
        sender?.resume()
    }
}
