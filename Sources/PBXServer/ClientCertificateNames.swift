import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// The node ids a connection's client certificate names, read once its TLS handshake is done; the session checks
/// the Hello against them. Empty until then, and for good on a connection without a client certificate.
final class PeerNodeNames: Sendable {
    private let names = NIOLockedValueBox<[String]?>(nil)

    /// nil: no client certificate (plaintext, or TLS without a client CA).
    var certified: [String]? { names.withLockedValue { $0 } }

    func record(_ certified: [String]) { names.withLockedValue { $0 = certified } }
}

/// Sits after the TLS handler until the handshake completes, then records the DNS subject alternative names of the
/// client's certificate (if it sent one) and leaves. NIOSSL reports the handshake before it passes on any data, so
/// the names are known before the Hello is read.
final class ClientCertificateNames: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let names: PeerNodeNames

    init(into names: PeerNodeNames) {
        self.names = names
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            if let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
               let certificate = tls.peerCertificate {
                // The underscored API is NIOSSL's only public reader of a certificate's names; the version is pinned.
                names.record(certificate._subjectAlternativeNames().compactMap { name in
                    name.nameType == .dnsName ? String(decoding: name.contents, as: UTF8.self) : nil
                })
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
