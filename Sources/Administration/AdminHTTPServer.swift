public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOConcurrencyHelpers
import NIOCore
public import NIOSSL

/// Something that adds its routes to the administration router: the JSON API, the web console.
public protocol AdminSurface: Sendable {
    func register(on router: Router<AdminRequestContext>)
}

/// What `/readyz` reports: whether `serve` can do its work now, and each check by name.
public struct ReadinessReport: Sendable, Encodable {
    public var ready: Bool
    public var checks: [String: String]

    public init(ready: Bool, checks: [String: String]) {
        self.ready = ready
        self.checks = checks
    }
}

/// The administration HTTP listener: `/healthz`, `/readyz`, `/metrics` and the surfaces' routes on one router.
public enum AdminHTTPServer {
    /// The application serving `surfaces`; run it as a service (it binds when run). `readiness` answers `/readyz`
    /// (nil: ready whenever the listener answers).
    public static func application(
        operations: AdminOperations, surfaces: [any AdminSurface], host: String, port: Int,
        onBound: @escaping @Sendable (Int) -> Void = { _ in },
        readiness: (@Sendable () async -> ReadinessReport)? = nil,
        tls: NIOLockedValueBox<NIOSSLContext>? = nil, logger: Logger
    ) -> Application<RouterResponder<AdminRequestContext>> {
        let router = Router(context: AdminRequestContext.self)
        // First, so that it wraps every route added after it.
        router.add(middleware: RequestMetricsMiddleware(metrics: operations.metrics))
        for surface in surfaces { surface.register(on: router) }
        router.get("/healthz") { _, _ in
            try Response.json(["status": "ok", "version": operations.configuration.version])
        }
        // Alive is not ready: a supervisor or a load balancer sends calls only where the ledger can write and both
        // listeners are up.
        router.get("/readyz") { _, _ in
            let report = await readiness?() ?? ReadinessReport(ready: true, checks: [:])
            var response = try Response.json(report)
            if !report.ready { response.status = .serviceUnavailable }
            return response
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: await operations.metrics.render(operations))))
        }
        let server: HTTPServerBuilder = if let tls {
            HTTPServerBuilder { responder in ReloadingTLSChannel(base: HTTP1Channel(responder: responder), contexts: tls) }
        } else {
            .http1()
        }
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: port),
                                 serverName: "tollgate/\(operations.configuration.version)"),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
