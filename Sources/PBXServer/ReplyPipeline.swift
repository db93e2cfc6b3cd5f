import NIOCore
import Synchronization

/// One connection's replies, in request order, between the request loop and the reply writer.
///
/// A reply is ready at once, or deferred until a settlement is committed: the request loop goes on with the next
/// request meanwhile, so one connection's settlements share group commits instead of waiting one commit each,
/// and replies still leave in the order the requests came. At most `bound` replies wait; beyond that the request
/// loop suspends (and stops reading the socket), so a PBX that floods cannot make the server buffer without end.
final class ReplyPipeline: Sendable {
    enum Item: Sendable {
        case ready([UInt8])
        case deferred(@Sendable () async -> [UInt8])
    }

    private struct State {
        var items = CircularBuffer<Item>()
        var reader: CheckedContinuation<Item?, Never>?
        var sender: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    private let bound: Int

    init(bound: Int) { self.bound = bound }

    /// Queues a reply; suspends while `bound` replies wait. After ``finish()``, drops it.
    func send(_ item: Item) async {
        await withCheckedContinuation { (room: CheckedContinuation<Void, Never>) in
            let resume: (CheckedContinuation<Item?, Never>?, Bool) = state.withLock { state in
                if state.finished { return (nil, true) }
                if let reader = state.reader {
                    state.reader = nil
                    return (reader, true)
                }
                state.items.append(item)
                if state.items.count < bound { return (nil, true) }
                state.sender = room
                return (nil, false)
            }
            resume.0?.resume(returning: item)
            if resume.1 { room.resume() }
        }
    }

    /// The next reply, in order; nil once finished and drained.
    func next() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let (item, sender, done): (Item?, CheckedContinuation<Void, Never>?, Bool) = state.withLock { state in
                if let item = state.items.popFirst() {
                    let sender = state.sender
                    state.sender = nil
                    return (item, sender, false)
                }
                if state.finished { return (nil, nil, true) }
                state.reader = continuation
                return (nil, nil, false)
            }
            sender?.resume()
            if let item { continuation.resume(returning: item) } else if done { continuation.resume(returning: nil) }
        }
    }

    /// No more replies: the writer drains what waits, a suspended sender is released.
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

    /// Drops what waits (the writer failed): nothing more will be written.
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
