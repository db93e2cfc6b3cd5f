import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// HTTP over TLS whose certificate can be replaced while the server runs: each new connection takes the context
/// in `contexts` as it is then (HummingbirdTLS's `TLSChannel` fixes its context when the server is built, so a
/// certificate renewed on SIGHUP would not be served until a restart).
struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let contexts: NIOLockedValueBox<NIOSSLContext>

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = contexts.withLockedValue { $0 }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadingTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
