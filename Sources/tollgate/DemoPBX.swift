import NIOCore
import NIOPosix
import PBXWire

/// The demo's simulated PBX: speaks the protocol over a real socket, matching replies to requests by
/// correlation id and handing pushes (cutoff, warning, grant renewal) to `onPush`.
actor DemoPBX {
    typealias Message = PBXClientCodec.ServerMessage

    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextID: UInt64 = 1
    private var waiting: [UInt64: CheckedContinuation<Message, any Error>] = [:]
    private var early: [UInt64: Message] = [:]
    private let onPush: @Sendable (DemoPBX, Message) async -> Void

    init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, onPush: @escaping @Sendable (DemoPBX, Message) async -> Void) {
        self.outbound = outbound
        self.onPush = onPush
    }

    /// Connects to `port`, runs `body` with the PBX while a reader task delivers frames, then closes.
    static func connect(port: Int, onPush: @escaping @Sendable (DemoPBX, Message) async -> Void,
                        _ body: @Sendable (DemoPBX) async throws -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            let pbx = DemoPBX(outbound: outbound, onPush: onPush)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await frame in inbound { await pbx.deliver(try PBXClientCodec.decode(frame)) }
                }
                try await body(pbx)
                group.cancelAll()
            }
        }
    }

    /// Sends the request built for a fresh correlation id and waits for its reply.
    func request(_ build: (UInt64) -> [UInt8]) async throws -> Message {
        let id = nextID
        nextID += 1
        try await send(build(id))
        return try await withCheckedThrowingContinuation { continuation in
            if let reply = early.removeValue(forKey: id) {
                continuation.resume(returning: reply)
            } else {
                waiting[id] = continuation
            }
        }
    }

    func send(_ payload: [UInt8]) async throws {
        var buffer = ByteBuffer()
        buffer.writeFrame(payload)
        try await outbound.write(buffer)
    }

    private func deliver(_ message: Message) async {
        guard message.status != nil else {
            // Every push is acknowledged; acknowledgements get no reply.
            try? await send(PBXClientCodec.ack(correlationID: message.correlationID))
            await onPush(self, message)
            return
        }
        if let continuation = waiting.removeValue(forKey: message.correlationID) {
            continuation.resume(returning: message)
        } else {
            early[message.correlationID] = message
        }
    }
}

/// A demo step that could not go on.
struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
