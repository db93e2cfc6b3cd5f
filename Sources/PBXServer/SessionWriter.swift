import AsyncBatching
import Logging
import NIOCore
import PBXWire
import Synchronization

/// The one writer of a connection: its replies and pushes leave through here, in order, each batch with one
/// flush.
///
/// Replies and pushes queue for the writer in the order they were made. A settlement's reply first waits in
/// the commit lane, in request order, until its commit is durable (commits complete in order, so a group
/// commit releases many replies at once), then joins the writer's queue: an authorization's reply or a cutoff
/// never waits behind a disk flush. The writer's queue is bounded: a request loop that outruns it suspends (and
/// stops reading the socket), a push that finds it full is refused (its route then closes a PBX that does not
/// read). A close is written last, after every reply before it, the commit lane included.
final class SessionWriter: Sendable {
    private let outbound: BatchQueue<PBXSession.Output>
    private let commits: BatchQueue<DeferredReply>
    /// The last reply of a session closing (a bad frame's status), written after the commit lane drains.
    private let lastReply = Mutex<[UInt8]?>(nil)
    private let logger: Logger

    /// `maxQueued` bounds the writer's queue (pushes and replies), `maxAwaitingCommit` the commit lane.
    init(maxQueued: Int, maxAwaitingCommit: Int, logger: Logger) {
        outbound = BatchQueue(bound: maxQueued)
        commits = BatchQueue(bound: maxAwaitingCommit)
        self.logger = logger
    }

    /// Queues a push without waiting; false when the queue is full or the connection is closing.
    @Sendable
    func push(_ payload: [UInt8]) -> Bool { outbound.offer(.push(payload)) }

    /// Replies and pushes waiting for the writer now.
    @Sendable
    func queued() -> Int { outbound.count }

    /// Queues one of the session's outputs, suspending while the queue is full; false once the connection is
    /// closing (the session's input should stop).
    func deliver(_ output: PBXSession.Output) async -> Bool {
        switch output {
        case .reply, .push:
            return await outbound.send(output)
        case .replyAfterCommit(let deferred):
            return await commits.send(deferred)
        case .close(let last):
            lastReply.withLock { $0 = $0 ?? last }
            commits.finish()
            return false
        }
    }

    /// The session's input ended: what is queued is written, then the connection closes.
    func finish() { commits.finish() }

    /// Writes until the connection closes: runs the commit lane and the writer. `close` closes the connection.
    func run(to socket: NIOAsyncChannelOutboundWriter<ByteBuffer>, close: @escaping @Sendable () -> Void)
        async throws
    {
        defer {
            outbound.finish()
            commits.finish()
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.releaseCommitted() }
            do {
                try await write(to: socket, close: close)
            } catch {
                // Nothing more can be written: the lane and a request loop waiting for room are released.
                outbound.finish()
                commits.finish()
                throw error
            }
        }
    }

    private func write(to socket: NIOAsyncChannelOutboundWriter<ByteBuffer>, close: @Sendable () -> Void)
        async throws
    {
        var frames: [ByteBuffer] = []
        while case let batch = await outbound.nextBatch(), !batch.isEmpty {
            var closing = false
            for output in batch {
                switch output {
                case .reply(let payload), .push(let payload):
                    frames.append(ByteBuffer(frame: payload))
                case .close(let last):
                    if let last { frames.append(ByteBuffer(frame: last)) }
                    closing = true
                case .replyAfterCommit:
                    preconditionFailure("replies waiting for a commit go through the commit lane")
                }
                if closing { break }
            }
            if !frames.isEmpty { try await socket.write(contentsOf: frames) }
            frames.removeAll(keepingCapacity: true)
            if closing {
                close()
                return
            }
        }
    }

    /// The commit lane: takes every reply queued, waits for their commits in order and queues for the writer
    /// together those already committed (a run ends before a reply whose commit is still pending, so none waits
    /// for a later commit than its own). When the lane ends, queues the close.
    private func releaseCommitted() async {
        var ready: [PBXSession.Output] = []
        /// Queues `ready` for the writer, at once when it fits; false once the writer is gone.
        func release() async -> Bool {
            defer { ready.removeAll(keepingCapacity: true) }
            if ready.isEmpty || outbound.offer(contentsOf: ready) { return true }
            for output in ready { guard await outbound.send(output) else { return false } }
            return true
        }
        while case let batch = await commits.nextBatch(), !batch.isEmpty {
            for deferred in batch {
                if !deferred.isResolved, !(await release()) { return }
                ready.append(.reply(await deferred.reply(logger: logger)))
            }
            guard await release() else { return }
        }
        await outbound.send(.close(last: lastReply.withLock { $0 }))
    }
}
