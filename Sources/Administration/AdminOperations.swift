import BillingCore
import Foundation
import Journal
public import Ledger
public import Logging
public import Metering

/// The one layer of administration operations: extensions, recharges, rates, calls, statistics, settings,
/// users, activation and live calls. The JSON API and the web console both call it, so the two cannot disagree.
///
/// Every change goes through the engine (and so through the extension actors and the ledger), and returns only
/// once committed. Errors are ``APIError``s: a code, a message and the field at fault, which the API renders as
/// JSON and the console next to the field.
public final class AdminOperations: Sendable {
    public struct Configuration: Sendable {
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
        /// PBX connections open now (`/metrics`); the PBX server's count under `serve`.
        public var pbxConnections: @Sendable () -> Int

        public init(licenseDirectory: String, vendorPublicKey: String = AdminOperations.defaultVendorPublicKey,
                    bcryptCost: UInt8 = 12, version: String, initialAdminPassword: String? = nil,
                    initialPasswordFile: String, pbxConnections: @escaping @Sendable () -> Int = { 0 }) {
            self.pbxConnections = pbxConnections
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

    package let engine: MeteringEngine
    package let ledger: SQLiteLedger
    package let configuration: Configuration
    package let logger: Logger
    package let sessions: SessionStore
    package let activation: Activation
    package let metrics: APIMetrics
    let rateIDs = RateIDs()
    /// Pushes an operator hang-up to the PBX owning a call.
    let hangupPush: @Sendable (_ callID: String, _ reason: String) throws -> Void
    private let hasStoredPolicy: Bool

    /// Opens the operations over an engine and its ledger, reading the activation state (nothing is written here).
    public init(engine: MeteringEngine, ledger: SQLiteLedger, configuration: Configuration,
                hangup: @escaping @Sendable (String, String) throws -> Void,
                logger: Logger = Logger(label: "tollgate.admin")) async throws {
        self.engine = engine
        self.ledger = ledger
        self.configuration = configuration
        self.hangupPush = hangup
        self.logger = logger
        sessions = SessionStore(ledger: ledger)
        let settings = try await ledger.settings()
        let activatedAt = settings[Activation.activatedAtKey].flatMap(Int64.init)
        activation = try Activation(licenseDirectory: configuration.licenseDirectory,
                                    vendorPublicKey: configuration.vendorPublicKey, activatedAt: activatedAt)
        metrics = APIMetrics(version: configuration.version)
        hasStoredPolicy = settings[SettingKey.policy] != nil
    }

    /// Commits what a start may need (it needs the ledger's writer running): on a new installation billing
    /// stays off until the administrator activates it; a ledger where billing was already on (an upgrade, a
    /// seeded ledger) counts as activated now; the administrator is created if there is none; the sessions of
    /// the previous run are read back.
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
        try await sessions.restore(now: engine.nowMillis())
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
            logger.notice("administrator 'admin' created; its password is in the file at path (mode 0600)",
                          metadata: .fields([.path: "\(url.path)"]))
        }
    }
}
