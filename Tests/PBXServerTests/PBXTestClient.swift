import NIOCore
import NIOPosix
import NIOSSL
@testable import PBXWire
import SwiftProtobuf

/// A PBX over a real loopback socket, speaking the protocol with the generated types.
final class PBXTestClient {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var nextID: UInt64 = 1
    /// Pushes received while waiting for replies.
    var pushes: [Tollgate_Pbx_V1_Envelope] = []

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Connects, runs `body` with the client, and closes the connection.
    /// `receiveBufferBytes` shrinks the socket's receive buffer, so a client that stops reading backs up fast.
    /// `tls`: speak TLS with this client context (its trust roots, and its certificate if it has one).
    static func connect<T: Sendable>(port: Int, receiveBufferBytes: Int? = nil, tls: NIOSSLContext? = nil,
                                     _ body: (PBXTestClient) async throws -> T) async throws -> T {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBufferBytes {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
        }
        let channel = try await bootstrap
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(PBXTestClient(inbound: inbound, outbound: outbound))
        }
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends a request and returns its correlation id.
    @discardableResult
    func send(_ body: Tollgate_Pbx_V1_Envelope.OneOf_Body, id: UInt64? = nil) async throws -> UInt64 {
        var envelope = Tollgate_Pbx_V1_Envelope()
        envelope.correlationID = id ?? nextID
        nextID += 1
        envelope.body = body
        var buffer = ByteBuffer()
        buffer.writeFrame(try envelope.serializedBytes() as [UInt8])
        try await outbound.write(buffer)
        return envelope.correlationID
    }

    /// The next frame, or nil when the server closed the connection.
    func next() async throws -> Tollgate_Pbx_V1_Envelope? {
        guard let frame = try await inbound.next() else { return nil }
        return try Tollgate_Pbx_V1_Envelope(serializedBytes: Array(frame.readableBytesView))
    }

    /// Sends a request and waits for its reply, keeping pushes that arrive meanwhile.
    func call(_ body: Tollgate_Pbx_V1_Envelope.OneOf_Body) async throws -> Tollgate_Pbx_V1_Envelope? {
        let id = try await send(body)
        while let envelope = try await next() {
            if envelope.hasStatus, envelope.correlationID == id { return envelope }
            pushes.append(envelope)
        }
        return nil
    }

    /// Waits for the next push of a kind.
    func push(where matches: (Tollgate_Pbx_V1_Envelope) -> Bool) async throws -> Tollgate_Pbx_V1_Envelope? {
        if let index = pushes.firstIndex(where: matches) { return pushes.remove(at: index) }
        while let envelope = try await next() {
            if matches(envelope) { return envelope }
            pushes.append(envelope)
        }
        return nil
    }

    func hello(secret: String = "s3cret", node: String = "pbx-test") async throws -> Tollgate_Pbx_V1_Envelope? {
        var hello = Tollgate_Pbx_V1_Hello()
        hello.protocolMajor = 1
        hello.nodeID = node
        hello.secret = secret
        return try await call(.hello(hello))
    }
}
