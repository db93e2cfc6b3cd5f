public import NIOCore
import SwiftProtobuf

/// One frame after protobuf decoding: the envelope, or nil when the bytes are not a valid envelope (the session
/// refuses it and closes).
public struct InboundEnvelope: Sendable {
    var envelope: Tollgate_Pbx_V1_Envelope?

    init(_ envelope: Tollgate_Pbx_V1_Envelope?) { self.envelope = envelope }

    /// The frame's correlation id; nil when the payload is not an envelope.
    public var correlationID: UInt64? { envelope?.correlationID }

    /// Whether the frame acknowledges a push (the one request that gets no reply).
    public var isPushAcknowledgement: Bool {
        if case .ack = envelope?.body { true } else { false }
    }

    /// Decodes a frame's payload in place (no copy of its bytes into an array first).
    public init(payload: ByteBuffer) {
        envelope = try? Tollgate_Pbx_V1_Envelope(serializedBytes: payload.readableBytesSpan)
    }
}

/// Decodes each frame's protobuf envelope on the event loop, so connection tasks receive ready messages and
/// only hop to the engine's actors.
public final class EnvelopeDecoder: ChannelInboundHandler, Sendable {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = InboundEnvelope

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        context.fireChannelRead(wrapInboundOut(InboundEnvelope(payload: frame)))
    }
}
