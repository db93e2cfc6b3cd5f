import NIOCore
import PBXWire
import Synchronization

/// The replies to one connection's `Ended` requests, each waiting for its settlement's commit, in request order.
///
/// Commits complete in order, so the writer takes every reply queued, awaits them in order and writes those
/// whose commit is done together: a group commit settles many calls at once, and their replies leave with one
/// flush instead of one each (``write(to:written:)``).
final class SettlementReplies: Sendable {
    typealias Reply = ReplyPipeline.Deferred

    private struct State {
        var queued: [Reply] = []
        var reader: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func append(_ reply: Reply) {
        let reader = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.queued.append(reply)
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume()
    }

    /// No more replies: the writer drains what is queued and stops.
    func finish() {
        let reader = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume()
    }

    /// Every reply queued now, in order, after waiting for at least one; empty once finished and drained.
    func takeAll() async -> [Reply] {
        while true {
            let (batch, done) = state.withLock { state -> ([Reply], Bool) in
                defer { state.queued.removeAll(keepingCapacity: true) }
                return (state.queued, state.finished)
            }
            if !batch.isEmpty || done { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.queued.isEmpty || state.finished { return true }
                    state.reader = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// Writes every reply until ``finish()``: each batch taken is written in runs, a run ending before a reply
    /// that must still wait for its commit, so no reply waits for a later commit than its own.
    /// `failed` makes the reply for a settlement whose commit failed.
    func write(to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, written: () -> Void,
               failed: (any Error, UInt64) -> [UInt8]) async throws {
        var frames: [ByteBuffer] = []
        func flush() async throws {
            guard !frames.isEmpty else { return }
            try await outbound.write(contentsOf: frames)
            for _ in frames { written() }
            frames.removeAll(keepingCapacity: true)
        }
        while case let batch = await takeAll(), !batch.isEmpty {
            for reply in batch {
                if !reply.commit.isResolved { try await flush() }
                frames.append(ByteBuffer(frame: await reply.reply(failed: failed)))
            }
            try await flush()
        }
    }
}
