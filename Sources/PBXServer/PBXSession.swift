import BillingCore
import Foundation
import Journal
public import Logging
public import Metering
public import PBXWire

/// One PBX connection's whole life: the handshake, its requests in order, its idle timeout, its pushes, its
/// close, and what the engine must be told when it is gone. No I/O: the server feeds it each frame and carries
/// out the ``Output`` it returns through the connection's ``SessionWriter``; the fuzzer and the tests feed it
/// the same way.
///
/// ```
/// awaiting Hello ──Hello ok──▶ established ──bad stream / bad Hello / idle──▶ closed ──▶ ``closed()``
/// ```
/// Requests are carried out one at a time, in the order they came: a PBX that pipelines gets its replies in
/// that order, except that a settlement's reply waits for its commit (``Output/replyAfterCommit(_:)``) while the
/// next requests go on (correlation ids match them up).
public struct PBXSession {
    /// What the connection must do after a frame.
    public enum Output: Sendable {
        /// Write this reply now, after every reply before it.
        case reply([UInt8])
        /// Write this reply once its settlement is committed (or an error reply if the commit fails).
        case replyAfterCommit(DeferredReply)
        /// Write this push from the engine (a cutoff, a warning, a grant renewal, an operator's hang-up).
        case push([UInt8])
        /// Write this last reply, if any, once everything before it is written; then close the connection.
        case close(last: [UInt8]?)
    }

    let engine: MeteringEngine
    let configuration: PBXServer.Configuration
    let logger: Logger
    private var machine: SessionStateMachine
    private let pushes: @Sendable ([UInt8]) -> Bool
    private let queuedPushes: @Sendable () -> Int
    private let closeConnection: @Sendable () -> Void
    /// When the connection last delivered a whole frame; read by the idle watch.
    let activity: ConnectionActivity
    /// The route of the calls this session owns, once it is established.
    private(set) var route: PBXConnection?
    /// The node ids the connection's client certificate names (nil: none presented), read when the Hello comes.
    private let certifiedNodeIDs: @Sendable () -> [String]?

    /// A session on a new connection. `pushes` queues a push for the connection's writer (false when the PBX is
    /// not reading and the queue is full); `close` closes the connection (a PBX not reading its pushes).
    public init(engine: MeteringEngine, configuration: PBXServer.Configuration,
                pushes: @escaping @Sendable ([UInt8]) -> Bool, close: @escaping @Sendable () -> Void,
                logger: Logger) {
        self.init(engine: engine, configuration: configuration, pushes: pushes, queuedPushes: { 0 }, close: close,
                  logger: logger)
    }

    /// A session whose pushes go to `writer`; `certifiedNodeIDs` reads the client certificate's node ids.
    init(engine: MeteringEngine, configuration: PBXServer.Configuration, writer: SessionWriter,
         close: @escaping @Sendable () -> Void, certifiedNodeIDs: @escaping @Sendable () -> [String]?,
         logger: Logger) {
        self.init(engine: engine, configuration: configuration, pushes: writer.push, queuedPushes: writer.queued,
                  close: close, certifiedNodeIDs: certifiedNodeIDs, logger: logger)
    }

    private init(engine: MeteringEngine, configuration: PBXServer.Configuration,
                 pushes: @escaping @Sendable ([UInt8]) -> Bool, queuedPushes: @escaping @Sendable () -> Int,
                 close: @escaping @Sendable () -> Void, certifiedNodeIDs: @escaping @Sendable () -> [String]? = { nil },
                 logger: Logger) {
        self.certifiedNodeIDs = certifiedNodeIDs
        self.queuedPushes = queuedPushes
        self.engine = engine
        self.configuration = configuration
        self.logger = logger
        self.machine = SessionStateMachine(configuration: configuration.session)
        self.pushes = pushes
        self.closeConnection = close
        self.activity = ConnectionActivity(now: engine.nowMillis(),
                                           timeoutMillis: Int64(configuration.session.heartbeatIntervalMillis) * 3)
    }

    /// Whether the handshake is done and the session not closed.
    public var isEstablished: Bool {
        if case .established = machine.state { true } else { false }
    }

    /// Handles one whole frame; nil when there is nothing to write (a push acknowledgement, input after close).
    public mutating func received(_ frame: InboundEnvelope) async -> Output? {
        activity.touch(engine.nowMillis())
        if !isEstablished { machine.certifiedNodeIDs = certifiedNodeIDs() }
        switch machine.received(frame, nowMillis: engine.nowMillis(), sessionID: UUID().uuidString) {
        case .send(let payload):
            return .reply(payload)
        case .sendAndClose(let payload):
            return .close(last: payload)
        case .none:
            return nil
        case .dispatch(let correlationID, let request):
            return await dispatch(request, correlationID: correlationID, on: establishedRoute())
        }
    }

    /// The byte stream broke (an oversized or truncated frame): the reply that says why, and the close.
    public mutating func failed(_ error: FrameError) -> Output {
        logger.info("PBX connection closed", metadata: .fields([.error: "\(error)"]))
        if case .sendAndClose(let payload) = machine.frameFailed(error) { return .close(last: payload) }
        return .close(last: nil)
    }

    /// The connection is gone: the engine keeps this session's calls for a resync during the grace period, then
    /// settles those no PBX claimed. Returns at the end of the grace period (at once when no call was live);
    /// `waiting` is called when it starts.
    public func closed(waiting: () -> Void = {}) async {
        guard let route else { return }
        await engine.connectionDropped(route, graceMillis: configuration.resyncGraceMillis, waiting: waiting)
    }

    /// The session's route, made when the handshake has just completed.
    private mutating func establishedRoute() -> PBXConnection {
        if let route { return route }
        guard case .established(let node, let session) = machine.state else {
            preconditionFailure("the state machine dispatches requests only in an established session")
        }
        let route = PBXConnection(sessionID: session, nodeID: node, pushes: pushes, queued: queuedPushes,
                                  close: closeConnection)
        logger.info("PBX session established", metadata: .fields([.nodeID: "\(node)", .sessionID: "\(session)"]))
        self.route = route
        return route
    }
}
