import BillingCore
import Foundation
import HTTPTypes
import Hummingbird
public import Ledger
public import Logging
public import Metering
import NIOCore
import NIOPosix
import Prometheus

/// The administration HTTP API: billing users and the administrator sign in and manage extensions, rates,
/// recharges, the call log, statistics, settings, live calls, activation and the license.
///
/// Every change goes through the engine (and so through the extension actors and the ledger), and is answered
/// only once committed.
public final class AdminAPI<C: Clock>: Sendable where C.Duration == Duration {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Where the license lives: outside the billing database, so a reset of billing data keeps it.
        public var licenseDirectory: String
        /// The vendor's Ed25519 public key (base64) that licenses must be signed with.
        public var vendorPublicKey: String
        /// bcrypt cost for password hashes (12 in production; tests lower it).
        public var bcryptCost: UInt8
        public var version: String
        /// The administrator's password for a new installation; when nil one is generated and written to
        /// `initialPasswordFile` (mode 0600), never logged.
        public var initialAdminPassword: String?
        public var initialPasswordFile: String

        public init(host: String = "127.0.0.1", port: Int = 8080, licenseDirectory: String,
                    vendorPublicKey: String = AdminAPI.defaultVendorPublicKey, bcryptCost: UInt8 = 12,
                    version: String, initialAdminPassword: String? = nil, initialPasswordFile: String) {
            self.host = host
            self.port = port
            self.licenseDirectory = licenseDirectory
            self.vendorPublicKey = vendorPublicKey
            self.bcryptCost = bcryptCost
            self.version = version
            self.initialAdminPassword = initialAdminPassword
            self.initialPasswordFile = initialPasswordFile
        }
    }

    /// The Tollgate vendor's license signing key (public half). A vendor shipping its own build sets its own.
    public static var defaultVendorPublicKey: String { "rLPFRhtQ8aqUoGhLBpUKjxQiSihMW+Xap3hJsGPZ+LM=" }

    let engine: MeteringEngine<C>
    let ledger: SQLiteLedger
    let configuration: Configuration
    let logger: Logger
    let sessions = SessionStore()
    let activation: Activation
    let metrics: APIMetrics
    let rateIDs = RateIDs()
    /// Pushes an operator hang-up to the PBX owning a call.
    let hangup: @Sendable (_ callID: String, _ reason: String) throws -> Void

    /// Opens the API over an engine and its ledger, reading the activation state (nothing is written here).
    public init(engine: MeteringEngine<C>, ledger: SQLiteLedger, configuration: Configuration,
                hangup: @escaping @Sendable (String, String) throws -> Void,
                logger: Logger = Logger(label: "tollgate.api")) async throws {
        self.engine = engine
        self.ledger = ledger
        self.configuration = configuration
        self.hangup = hangup
        self.logger = logger
        let settings = try await ledger.settings()
        let activatedAt = settings[Activation.activatedAtKey].flatMap(Int64.init)
        activation = try Activation(licenseDirectory: configuration.licenseDirectory,
                                    vendorPublicKey: configuration.vendorPublicKey, activatedAt: activatedAt)
        metrics = APIMetrics()
        hasStoredPolicy = settings[SettingKey.policy] != nil
    }

    private let hasStoredPolicy: Bool

    /// Commits what a start may need (it needs the ledger's writer running): on a new installation billing
    /// stays off until the administrator activates it; a ledger where billing was already on (an upgrade, a
    /// seeded ledger) counts as activated now; the administrator is created if there is none.
    public func prepare() async throws {
        if activation.activatedAt == nil {
            if !hasStoredPolicy {
                var policy = engine.policy
                policy.billingActive = false
                try await engine.setPolicy(policy)
            } else if engine.policy.billingActive {
                try await recordActivation()
            }
        }
        try await ensureAdministrator()
    }

    /// Prepares (see ``prepare()``), binds, reports the bound port, and serves until cancelled.
    public func run(onBound: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        try await prepare()
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "tollgate/\(configuration.version)"),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [])
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: APIErrorMiddleware())
        router.get("/healthz") { _, _ in try Response.json(["status": "ok", "version": self.configuration.version]) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: await self.metrics.render(self))))
        }
        let api = router.group("/api/v1")
        addAuthRoutes(api)
        addAdminRoutes(api)
        addExtensionRoutes(api)
        addRechargeRoutes(api)
        addRateRoutes(api)
        addCallRoutes(api)
        addStatisticsRoutes(api)
        addSettingsRoutes(api)
        addLiveCallRoutes(api)
        return router
    }

    // MARK: Authentication

    /// The session behind the request's bearer token, which must have `role`. Billing users are also refused
    /// while billing is off or the trial has ended without a license.
    func authorize(_ request: Request, _ role: StoredUser.Role) throws -> AdminSession {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let session = sessions.session(token: String(header.dropFirst(7)), now: engine.nowMillis())
        else {
            var error = APIError.unauthenticated
            error.extraHeaders["WWW-Authenticate"] = "Bearer"
            throw error
        }
        guard session.role == role else {
            throw APIError.forbidden(role == .admin ? "only the administrator may do this" : "billing users only")
        }
        if role == .billing, let refusal = activation.billingUsersRefusal(
            billingEnabled: engine.policy.billingActive, now: engine.nowMillis())
        {
            throw APIError.forbidden(refusal)
        }
        return session
    }

    func recordActivation() async throws {
        let now = engine.nowMillis()
        if activation.markActivated(at: now) {
            try await engine.saveSetting(key: Activation.activatedAtKey, value: String(now))
        }
    }

    private func ensureAdministrator() async throws {
        guard try await ledger.users().contains(where: { $0.role == .admin }) == false else { return }
        let password = configuration.initialAdminPassword ?? PasswordPolicy.generate()
        let hash = try await PasswordPolicy.hash(password, cost: configuration.bcryptCost)
        let now = engine.nowMillis()
        _ = try await ledger.insertUser(StoredUser(name: "admin", role: .admin, passwordHash: hash, createdAt: now,
                                                   passwordChangedAt: now))
        if configuration.initialAdminPassword == nil {
            let url = URL(fileURLWithPath: configuration.initialPasswordFile)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: url.path, contents: Data((password + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
            logger.notice("administrator 'admin' created; its password is in \(url.path) (mode 0600)")
        }
    }
}

/// Turns every error into the API's JSON error body.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(error)
            if apiError.status == .internalServerError {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return try apiError.response(from: request, context: context)
        }
    }
}
