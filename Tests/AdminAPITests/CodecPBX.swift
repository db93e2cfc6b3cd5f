import NIOCore
import NIOPosix
import PBXWire

/// A PBX over a real loopback socket built on the public ``PBXClientCodec`` (what the demo's PBX uses): sends
/// one request at a time and keeps the pushes that arrive while it waits for a reply.
final class CodecPBX {
    typealias Message = PBXClientCodec.ServerMessage
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var nextID: UInt64 = 1
    private var pushes: [Message] = []

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Connects, runs `body`, closes.
    static func connect(port: Int, _ body: (CodecPBX) async throws -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            try await body(CodecPBX(inbound: inbound, outbound: outbound))
        }
    }

    /// Sends the request built for a fresh correlation id; returns its reply (nil if the server closed).
    func call(_ build: (UInt64) -> [UInt8]) async throws -> Message? {
        let id = nextID
        nextID += 1
        try await send(build(id))
        while let message = try await next() {
            if message.status != nil, message.correlationID == id { return message }
            pushes.append(message)
        }
        return nil
    }

    func send(_ payload: [UInt8]) async throws {
        var buffer = ByteBuffer()
        buffer.writeFrame(payload)
        try await outbound.write(buffer)
    }

    /// The first push (kept or still to come) that `matches`.
    func push(where matches: (Message) -> Bool) async throws -> Message? {
        if let index = pushes.firstIndex(where: matches) { return pushes.remove(at: index) }
        while let message = try await next() {
            if matches(message) { return message }
            pushes.append(message)
        }
        return nil
    }

    private func next() async throws -> Message? {
        guard let frame = try await inbound.next() else { return nil }
        return try PBXClientCodec.decode(frame)
    }
}
