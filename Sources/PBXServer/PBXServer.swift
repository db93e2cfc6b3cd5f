public import BillingCore
import Foundation
import Journal
public import Logging
public import Metering
import NIOCore
import NIOPosix
public import NIOSSL
public import NIOConcurrencyHelpers
public import PBXWire
import Synchronization

/// The PBX socket server: accepts connections, runs each session's protocol, dispatches requests to the
/// engine and routes the engine's pushes to the connection that owns each call.
///
/// One bad connection is logged and closed, never the server: a connection's errors end only its own task.
public final class PBXServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var session: SessionStateMachine.Configuration
        /// Pushes queued for one PBX before it is considered not reading and disconnected.
        public var maxQueuedPushes: Int
        /// How long the calls of a dropped connection wait for a resync before they are settled.
        public var resyncGraceMillis: Int64
        /// Replies of one connection waiting to be written (most waiting for their settlement's commit); beyond
        /// it the connection's requests are not read until replies drain.
        public var maxPipelinedReplies: Int
        /// TLS on the port: the server context each new connection gets (replace it to reload certificates; the
        /// connections open keep theirs). nil: plaintext.
        public var tls: NIOLockedValueBox<NIOSSLContext>?

        public init(host: String = "127.0.0.1", port: Int = 7070, session: SessionStateMachine.Configuration,
                    maxQueuedPushes: Int = 10_000, resyncGraceMillis: Int64 = 120_000,
                    maxPipelinedReplies: Int = 4_096, tls: NIOLockedValueBox<NIOSSLContext>? = nil) {
            self.tls = tls
            self.host = host
            self.port = port
            self.session = session
            self.maxQueuedPushes = maxQueuedPushes
            self.resyncGraceMillis = resyncGraceMillis
            self.maxPipelinedReplies = maxPipelinedReplies
        }
    }

    let engine: MeteringEngine
    let configuration: Configuration
    let logger: Logger
    /// Yields a session id when a dropped session's grace period starts (bounded; tests wait on it).
    let graceStarted: AsyncStream<String>
    private let graceStartedContinuation: AsyncStream<String>.Continuation
    private let openConnections = Atomic<Int>(0)

    /// PBX connections open now, handshaken or not.
    public var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    public init(engine: MeteringEngine, configuration: Configuration,
                logger: Logger = Logger(label: "tollgate.pbx")) {
        self.engine = engine
        self.configuration = configuration
        self.logger = logger
        (graceStarted, graceStartedContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(16))
    }

    /// Binds, reports the bound port, and serves until cancelled. Also routes the engine's events, so the
    /// engine's `events` must have no other consumer.
    public func run(onBound: @Sendable (Int) -> Void = { _ in }) async throws {
        let maxFrame = configuration.session.maxFrameBytes
        let (tls, logger) = (configuration.tls, logger)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let envelopes = EnvelopeDecoder()
                    let peerNames = PeerNodeNames()
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            TLSGate(contexts: tls, envelopeDecoder: envelopes, peerNames: peerNames, logger: logger))
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrame)), envelopes)
                    return (try NIOAsyncChannel<InboundEnvelope, ByteBuffer>(wrappingChannelSynchronously: channel),
                            peerNames)
                }
            }
        onBound(server.channel.localAddress?.port ?? configuration.port)
        logger.info("PBX server listening", metadata: .fields([.address: "\(configuration.host):\(server.channel.localAddress?.port ?? 0)"]))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.routePushes() }
            try await server.executeThenClose { connections in
                for try await (connection, peerNames) in connections {
                    group.addTask { await self.serve(connection, peerNames: peerNames) }
                }
            }
        }
    }

    /// Runs one connection: its session on each frame, in order, its one writer, its idle watch; then tells the
    /// engine it is gone (which keeps its calls for the grace period).
    func serve(_ channel: NIOAsyncChannel<InboundEnvelope, ByteBuffer>, peerNames: PeerNodeNames) async {
        openConnections.add(1, ordering: .relaxed)
        defer { openConnections.subtract(1, ordering: .relaxed) }
        let writer = SessionWriter(maxQueued: configuration.maxQueuedPushes,
                                   maxAwaitingCommit: configuration.maxPipelinedReplies, logger: logger)
        let socket = channel.channel
        let closeSocket: @Sendable () -> Void = { socket.close(promise: nil) }
        var session = PBXSession(engine: engine, configuration: configuration, writer: writer, close: closeSocket,
                                 certifiedNodeIDs: { peerNames.certified }, logger: logger)
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await writer.run(to: outbound, close: closeSocket) }
                    defer { writer.finish() }
                    try await withThrowingDiscardingTaskGroup { input in
                        let idle = session.idleWatch
                        input.addTask {
                            guard let close = await idle.expired() else { return }
                            self.logger.info("closing an idle PBX connection")
                            _ = await writer.deliver(close)
                        }
                        defer { input.cancelAll() }
                        do {
                            for try await frame in inbound {
                                guard let output = await session.received(frame) else { continue }
                                guard await writer.deliver(output) else { break }
                            }
                        } catch let error as FrameError {
                            _ = await writer.deliver(session.failed(error))
                        }
                    }
                }
            }
        } catch {
            logger.info("PBX connection ended", metadata: .fields([.error: "\(error)"]))
        }
        await session.closed { graceStartedContinuation.yield(session.route?.sessionID ?? "") }
    }

    /// Tells the PBX owning a live call to hang it up (an operator's action). The PBX then ends the call as
    /// usual. Throws NOT_FOUND for a call no connected PBX owns.
    public func hangup(callID: String, reason: String) throws(TollgateError) {
        guard let route = engine.route(of: callID) else {
            throw TollgateError(.notFound, "no live call with this id on a connected PBX", field: "callId")
        }
        if !route.hangup(callID: callID, reason: reason) {
            route.close()
            throw TollgateError(.unavailable, "the PBX is not reading; its connection was closed", field: "callId")
        }
    }

    /// Sends each engine event to the connection owning its call.
    private func routePushes() async {
        while case let events = await engine.events.nextBatch(), !events.isEmpty {
            // One reading of the time per batch: the events of a batch were queued within moments of each other.
            let now = engine.nowMillis()
            for event in events { route(event, nowMillis: now) }
        }
    }

    /// Queues one event's push on the connection owning its call.
    private func route(_ event: BillingEvent, nowMillis: Int64) {
        let callID = event.callID
        guard let route = engine.route(of: callID) else { return }
        if !route.deliver(event, nowMillis: nowMillis) {
            // Bounded buffers, then disconnect: its calls stay safe under the PBX's grant failsafe and come
            // back with a resync.
            logger.warning("PBX is not reading its pushes; closing the connection", metadata: .fields([
                .sessionID: "\(route)", .callID: "\(callID)", .extensionNumber: "\(event.extensionNumber)",
            ]))
            route.close()
        }
    }
}
