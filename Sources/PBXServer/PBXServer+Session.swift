import BillingCore
import Foundation
import Logging
import Metering
import NIOCore
import PBXWire

extension PBXServer {
    /// Runs one connection: the session protocol on its frames, requests in order, pushes from its queue.
    /// Returns the session when one was established, so its calls can be looked after once it is gone.
    func serve(_ channel: NIOAsyncChannel<InboundEnvelope, ByteBuffer>) async -> PBXConnection? {
        let pushQueue = PushQueue(bound: configuration.maxQueuedPushes)
        var machine = SessionStateMachine(configuration: configuration.session)
        var connection: PBXConnection?
        let activity = ConnectionActivity(now: engine.nowMillis())
        let channelToClose = channel.channel
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        var frames: [ByteBuffer] = []
                        while case let pushes = await pushQueue.nextBatch(), !pushes.isEmpty {
                            for push in pushes { frames.append(ByteBuffer(frame: push)) }
                            try await outbound.write(contentsOf: frames)
                            frames.removeAll(keepingCapacity: true)
                        }
                    }
                    group.addTask { await self.watchIdle(activity, channel: channelToClose) }
                    defer {
                        pushQueue.finish()
                        group.cancelAll()
                    }
                    let replies = ReplyPipeline(bound: configuration.maxPipelinedReplies)
                    try await withThrowingDiscardingTaskGroup { writer in
                        writer.addTask {
                            // A failed write ends the connection; a request loop waiting for room is released.
                            do {
                                // Settlements' replies go through one task, in order: commits complete in order,
                                // so waiting for them one by one costs nothing and keeps their order.
                                let settlements = SettlementReplies()
                                try await withThrowingDiscardingTaskGroup { commits in
                                    commits.addTask {
                                        try await settlements.write(to: outbound, written: replies.written,
                                                                    failed: self.errorReply)
                                    }
                                    defer { settlements.finish() }
                                    var frames: [ByteBuffer] = []
                                    while case let items = await replies.nextBatch(), !items.isEmpty {
                                        for item in items {
                                            switch item {
                                            case .ready(let payload): frames.append(ByteBuffer(frame: payload))
                                            case .deferred(let settle): settlements.append(settle)
                                            }
                                        }
                                        guard !frames.isEmpty else { continue }
                                        try await outbound.write(contentsOf: frames)
                                        for _ in frames { replies.written() }
                                        frames.removeAll(keepingCapacity: true)
                                    }
                                }
                            } catch {
                                replies.abandon()
                                throw error
                            }
                        }
                        defer { replies.finish() }
                        do {
                            frames: for try await frame in inbound {
                                activity.touch(engine.nowMillis())
                                let action = machine.received(frame, nowMillis: engine.nowMillis(),
                                                              sessionID: UUID().uuidString)
                                switch action {
                                case .send(let payload):
                                    await replies.send(.ready(payload))
                                case .sendAndClose(let payload):
                                    await replies.send(.ready(payload))
                                    break frames
                                case .dispatch(let correlationID, let request):
                                    if connection == nil, case .established(let node, let session) = machine.state {
                                        connection = PBXConnection(sessionID: session, nodeID: node, pushes: pushQueue,
                                                                   close: { channelToClose.close(promise: nil) })
                                        logger.info("PBX session established", metadata: .fields([.nodeID: "\(node)", .sessionID: "\(session)"]))
                                    }
                                    guard let connection else { break frames }
                                    if case .ended(let callID, let billable, let cause, let lost) = request {
                                        await replies.send(await settle(callID: callID, billableMillis: billable,
                                                                        cause: cause, lost: lost,
                                                                        correlationID: correlationID))
                                    } else if let reply = await handle(request, correlationID: correlationID, on: connection) {
                                        await replies.send(.ready(reply))
                                    }
                                case .none:
                                    break frames
                                }
                            }
                        } catch let error as FrameError {
                            if case .sendAndClose(let payload) = machine.frameFailed(error) {
                                await replies.send(.ready(payload))
                            }
                            logger.info("PBX connection closed", metadata: .fields([.error: "\(error)"]))
                        }
                    }
                }
            }
        } catch {
            logger.info("PBX connection ended", metadata: .fields([.error: "\(error)"]))
        }
        return connection
    }

    /// Closes a connection silent for longer than the idle timeout: three heartbeat intervals (which also
    /// catches a client that sent half a frame and waits). Time comes from the engine's injected clock.
    func watchIdle(_ activity: ConnectionActivity, channel: any Channel) async {
        let timeout = Int64(configuration.session.heartbeatIntervalMillis) * 3
        while !Task.isCancelled {
            let deadline = activity.last + timeout
            do { try await engine.scheduler.time.sleep(untilEpochMillis: deadline) } catch { return }
            if engine.nowMillis() - activity.last >= timeout {
                logger.info("closing an idle PBX connection", metadata: .fields([.idleMillis: "\(timeout)"]))
                try? await channel.close()
                return
            }
        }
    }

    /// Carries out one request; returns the reply payload (nil for a push acknowledgement).
    func handle(_ request: PBXRequest, correlationID: UInt64, on connection: PBXConnection) async -> [UInt8]? {
        do {
            switch request {
            case .authorize(let callID, let number, let dialled):
                let decision = try await engine.authorize(callID: callID, extensionNumber: number, dialled: dialled,
                                                          route: connection)
                return WireReplies.authorize(correlationID: correlationID, decision)
            case .answered(let callID):
                try await engine.answered(callID: callID)
                return WireReplies.ack(correlationID: correlationID, status: .ok)
            case .ended(let callID, let billable, let cause, let lost):
                // The request loop calls `settle` itself so the connection need not wait for the commit; here the
                // same settlement, waited for.
                switch await settle(callID: callID, billableMillis: billable, cause: cause, lost: lost,
                                    correlationID: correlationID) {
                case .ready(let payload): return payload
                case .deferred(let deferred): return await deferred.reply(failed: errorReply)
                }
            case .extensionSync(let extensions):
                guard extensions.count <= 10_000 else {
                    throw TollgateError(.invalidArgument, "at most 10,000 extensions per sync", field: "extensions")
                }
                for item in extensions {
                    try await engine.ensureExtension(number: item.number, userName: item.userName.isEmpty ? nil : item.userName)
                }
                return WireReplies.ack(correlationID: correlationID, status: .ok)
            case .heartbeat:
                return WireReplies.heartbeat(correlationID: correlationID, nowMillis: engine.nowMillis())
            case .resync(let calls):
                guard calls.count <= 100_000 else {
                    throw TollgateError(.invalidArgument, "at most 100,000 calls per resync", field: "calls")
                }
                let outcome = await engine.resync(calls, route: connection)
                logger.info("resynced calls", metadata: .fields([
                    .claimed: "\(calls.count)", .adopted: "\(outcome.adopted.count)",
                    .authorizedAgain: "\(outcome.authorizedAgain)", .unknown: "\(outcome.unknown.count)",
                ]))
                return WireReplies.resync(correlationID: correlationID, adopted: outcome.adopted,
                                          unknown: outcome.unknown)
            case .pushAcknowledged:
                return nil
            }
        } catch {
            return errorReply(error, correlationID: correlationID)
        }
    }

    /// Settles a call now and returns its reply, deferred until the settlement is committed, so the connection's
    /// next requests are handled meanwhile (one connection's settlements then share group commits).
    func settle(callID: String, billableMillis: Int64, cause: String, lost: ClaimedCall? = nil,
                correlationID: UInt64) async -> ReplyPipeline.Item {
        do {
            // Settled, the call leaves the engine's registry, and its route with it. Known, lost and unknown
            // calls are the engine's decision.
            let pending = try await engine.endedWithoutWaiting(callID: callID, billableMillis: billableMillis,
                                                               cause: cause, lost: lost)
            // Encoded now, sent once committed: the reply then holds no call record while it waits.
            let record: CallRecord? = if case .settled(let record, _) = pending.outcome { record } else { nil }
            return .deferred(.init(payload: WireReplies.ended(correlationID: correlationID, settled: record),
                                   commit: pending.commit, correlationID: correlationID))
        } catch {
            return .ready(errorReply(error, correlationID: correlationID))
        }
    }

    func errorReply(_ error: any Error, correlationID: UInt64) -> [UInt8] {
        if let error = error as? TollgateError {
            return WireReplies.ack(correlationID: correlationID, status: WireStatus(error))
        }
        logger.error("request failed", metadata: .fields([.error: "\(error)"]))
        return WireReplies.ack(correlationID: correlationID,
                               status: WireStatus(.unavailable, "the engine could not apply the request"))
    }
}
