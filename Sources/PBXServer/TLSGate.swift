import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import PBXWire

/// The first handler of a connection on a TLS port: a TLS client's first byte is a handshake record (0x16); a
/// plaintext PBX's is the top byte of a frame's length (0 or 1, frames being at most 16 MiB). A TLS client gets
/// the TLS handler, with the context as it is now (a reload on SIGHUP serves the next connections). A plaintext
/// one gets a clear refusal in the protocol it speaks, then the connection is closed, so it never reaches a session.
final class TLSGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let contexts: NIOLockedValueBox<NIOSSLContext>
    /// The refusal goes after this handler, where whole envelopes come out.
    private let envelopeDecoder: any ChannelHandler
    /// Where the client certificate's names go for the session.
    private let peerNames: PeerNodeNames
    private let logger: Logger

    init(contexts: NIOLockedValueBox<NIOSSLContext>, envelopeDecoder: any ChannelHandler, peerNames: PeerNodeNames,
         logger: Logger) {
        self.contexts = contexts
        self.envelopeDecoder = envelopeDecoder
        self.peerNames = peerNames
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        do {
            if first == 0x16 {
                let ssl = NIOSSLServerHandler(context: contexts.withLockedValue { $0 })
                let names = ClientCertificateNames(into: peerNames)
                try context.pipeline.syncOperations.addHandler(names, position: .after(self))
                try context.pipeline.syncOperations.addHandler(ssl, position: .after(self))
            } else {
                logger.warning("a plaintext connection on the TLS port refused", metadata: .fields([
                    .address: "\(context.remoteAddress.map { "\($0)" } ?? "?")",
                ]))
                try context.pipeline.syncOperations.addHandler(PlaintextRefusal(), position: .after(envelopeDecoder))
            }
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Answers a plaintext PBX's first request on a TLS port with UNAUTHENTICATED "TLS required", then closes.
final class PlaintextRefusal: ChannelInboundHandler {
    typealias InboundIn = InboundEnvelope
    typealias OutboundOut = ByteBuffer

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let correlationID = unwrapInboundIn(data).correlationID ?? 0
        let reply = WireReplies.ack(correlationID: correlationID, status: WireStatus(
            .unauthenticated, "this port requires TLS: connect with TLS, or use the plaintext port"))
        var frame = context.channel.allocator.buffer(capacity: reply.count + 4)
        frame.writeFrame(reply)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
    }
}
