import AdminAPI
import AdminConsole
import Administration
import Foundation
import Journal
import Ledger
import Logging
import Metering
import PBXServer
import NIOSSL
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// What `tollgate serve` runs: the ledger, the engine, the PBX socket and the administration listener (the API
/// and the console) as services of one group, until SIGTERM or SIGINT or a service's failure.
///
/// Services start in order and stop in reverse. A listener that fails (its port taken) shuts the group down
/// gracefully, so the ledger commits what it holds and the only error is the listener's own.
struct TollgateServer {
    let settings: ServeSettings
    let logger: Logger
    /// Signals that begin a graceful shutdown; tests pass none.
    var shutdownSignals: [UnixSignal] = [.sigterm, .sigint]

    func run() async throws {
        // Held until run returns: a second serve, or a restore, on this directory is refused meanwhile.
        let lock = try DataDirectoryLock(dataDirectory: settings.dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        try backUpBeforeMigrating()
        // Certificates are read before anything else opens: a bad file stops the start with its name.
        let pbxTLS = try settings.pbxTLS?.makeBox()
        let httpTLS = try settings.httpTLS?.makeBox()
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: settings.dataDirectory))
        let engine = MeteringEngine(
            clock: ContinuousClock(), originEpochMillis: Int64(Date().timeIntervalSince1970 * 1000), journal: ledger,
            restoring: try await ledger.load())
        let server = PBXServer(engine: engine, configuration: .init(
            host: settings.pbxHost, port: settings.pbxPort,
            session: .init(secret: settings.pbxSecret, serverVersion: Tollgate.version,
                           heartbeatIntervalMillis: settings.heartbeatIntervalMillis,
                           maxFrameBytes: settings.maxFrameBytes),
            resyncGraceMillis: Int64(settings.resyncGraceSeconds) * 1000, tls: pbxTLS))
        let dataURL = URL(fileURLWithPath: settings.dataDirectory)
        let operations = try await AdminOperations(
            engine: engine, ledger: ledger,
            configuration: .init(
                licenseDirectory: settings.licenseDirectory ?? dataURL.appendingPathComponent("license").path,
                vendorPublicKey: settings.vendorPublicKey ?? AdminOperations.defaultVendorPublicKey,
                bcryptCost: settings.bcryptCost, version: Tollgate.version,
                initialAdminPassword: settings.initialAdminPassword,
                initialPasswordFile: dataURL.appendingPathComponent("initial-admin-password").path,
                pbxConnections: { server.connectionCount }),
            hangup: { callID, reason in try server.hangup(callID: callID, reason: reason) })
        let (settings, logger) = (settings, logger)
        let systemd = SystemdNotifier()
        let readiness = Readiness { ports in
            let pbx = "\(settings.pbxTLS == nil ? "" : "tls://")\(settings.pbxHost):\(ports[.pbx] ?? 0)"
            let http = "\(settings.httpTLS == nil ? "http" : "https")://\(settings.httpHost):\(ports[.http] ?? 0)"
            logger.info("serving", metadata: .fields([
                .dataDirectory: "\(settings.dataDirectory)", .pbxAddress: "\(pbx)", .httpAddress: "\(http)",
            ]))
            // The ledger is open (its writer runs) and both listeners are bound.
            systemd.notify("READY=1\nSTATUS=serving: PBXs on \(pbx), administration on \(http)")
        }
        var application = AdminHTTPServer.application(
            operations: operations,
            surfaces: [AdminAPI(operations: operations),
                       try AdminConsole(operations: operations, secureCookies: settings.httpTLS != nil)],
            host: settings.httpHost, port: settings.httpPort,
            onBound: { readiness.bound(.http, port: $0) },
            readiness: {
                let ledgerFailure = await ledger.writeFailure
                let checks = [
                    "ledger": ledgerFailure == nil ? "writable" : "failed: \(ledgerFailure!)",
                    "pbx": readiness.isBound(.pbx) ? "listening" : "not listening",
                    "http": readiness.isBound(.http) ? "listening" : "not listening",
                ]
                return ReadinessReport(ready: ledgerFailure == nil && readiness.isBound(.pbx)
                    && readiness.isBound(.http), checks: checks)
            },
            tls: httpTLS, logger: Logger(label: "tollgate.http"))
        // Restores sessions and the administrator; it needs the ledger's writer, which runs by then.
        application.beforeServerStarts { try await operations.prepare() }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: LedgerService(ledger: ledger)),
                .init(service: SystemdService(notifier: systemd, time: engine.scheduler.time)),
                .init(service: TLSReloadService(
                    listeners: [(settings.pbxTLS, pbxTLS), (settings.httpTLS, httpTLS)].compactMap { files, box in
                        files.flatMap { files in box.map { (files, $0) } }
                    },
                    logger: logger)),
                .init(service: EngineService(engine: engine, resyncGrace: .seconds(settings.resyncGraceSeconds),
                                             logger: logger)),
                .init(service: ListenerService(
                          listener: .pbx, address: "\(settings.pbxHost):\(settings.pbxPort)", readiness: readiness,
                          service: PBXService(server: server, onBound: { readiness.bound(.pbx, port: $0) })),
                      failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: ListenerService(
                          listener: .http, address: "\(settings.httpHost):\(settings.httpPort)", readiness: readiness,
                          service: application),
                      failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: shutdownSignals,
            logger: logger))
        try await group.run()
        let problems = try await ledger.verify()
        logger.info("stopped; ledger flushed", metadata: .fields([.verify: "\(problems.isEmpty ? "ok" : "\(problems.count) differences")"]))
    }

    /// An upgrade's new schema is applied when the ledger opens; a copy as it was comes first, into
    /// DATA_DIR/backups, named after the first migration it lacks. `--keep` never deletes these.
    func backUpBeforeMigrating() throws {
        let path = SQLiteLedger.path(dataDirectory: settings.dataDirectory)
        let pending = try SQLiteLedger.pendingMigrations(path: path)
        guard let first = pending.first else { return }
        let directory = URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = BackupRotation.name(at: Date()).replacingOccurrences(of: ".sqlite", with: "-before-\(first).sqlite")
        let destination = directory.appendingPathComponent(name).path
        try BackupCommand.copy(path, to: destination)
        logger.notice("ledger backed up before its schema is migrated", metadata: .fields([
            .path: "\(destination)", .count: "\(pending.count)",
        ]))
    }
}
