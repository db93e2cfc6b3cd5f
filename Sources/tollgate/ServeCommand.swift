import ArgumentParser
import Foundation
import Logging
import NIOCore

/// `tollgate serve`: the engine, its ledger and the PBX socket server, until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the billing engine and the PBX socket server.")

    @Option(help: "A JSON config file (env TOLLGATE_CONFIG): dataDir, pbxListen, pbxSecretFile, resyncGraceSeconds, heartbeatIntervalMs, maxFrameBytes, httpListen, licenseDir, eventLoops.")
    var config: String?
    @Option(name: .customLong("data-dir"), help: "Where the ledger lives (env TOLLGATE_DATA_DIR; default ./tollgate-data).")
    var dataDirectory: String?
    @Option(name: .customLong("pbx-listen"), help: "HOST:PORT for PBXs (env TOLLGATE_PBX_LISTEN; default 127.0.0.1:7070).")
    var pbxListen: String?
    @Option(name: .customLong("pbx-secret-file"), help: "A file holding the PBX shared secret (or env TOLLGATE_PBX_SECRET / TOLLGATE_PBX_SECRET_FILE).")
    var pbxSecretFile: String?
    @Option(name: .customLong("resync-grace"), help: "Seconds a restarted engine waits for PBXs to claim open calls (default 120).")
    var resyncGrace: Int?
    @Option(name: .customLong("http-listen"), help: "HOST:PORT for the admin HTTP API (env TOLLGATE_HTTP_LISTEN; default 127.0.0.1:8080).")
    var httpListen: String?
    @Option(name: .customLong("license-dir"), help: "Where the license is kept, apart from billing data (env TOLLGATE_LICENSE_DIR; default DATA_DIR/license).")
    var licenseDirectory: String?
    @Option(name: .customLong("event-loops"), help: "NIO event-loop threads for the PBX socket and the admin API (env TOLLGATE_EVENT_LOOPS; default NIO's own, one per core).")
    var eventLoops: Int?
    @Flag(name: .customLong("insecure-dev"), help: "Start without a PBX secret (development only).")
    var insecureDev = false
    @OptionGroup var log: LogOptions

    func run() async throws {
        try log.bootstrap()
        let environment = ProcessInfo.processInfo.environment
        var file: ServeSettings.File?
        if let path = config ?? environment["TOLLGATE_CONFIG"] {
            do {
                file = try JSONDecoder().decode(ServeSettings.File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw ValidationError("cannot read config file \(path): \(error)")
            }
        }
        let settings: ServeSettings
        do {
            settings = try ServeSettings.resolve(
                flags: .init(dataDirectory: dataDirectory, pbxListen: pbxListen, pbxSecretFile: pbxSecretFile,
                             insecureDev: insecureDev, resyncGraceSeconds: resyncGrace,
                             httpListen: httpListen, licenseDirectory: licenseDirectory, eventLoops: eventLoops),
                environment: environment, file: file,
                readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
        } catch let problem as ServeSettings.Problem {
            throw ValidationError(problem.description)
        }
        // Before anything touches the NIO singleton group: it is created with this many loops on first use.
        if let loops = settings.eventLoops { NIOSingletons.groupLoopCountSuggestion = loops }
        let logger = Logger(label: "tollgate")
        if settings.insecureDev { logger.warning("--insecure-dev: PBXs are accepted without a secret") }
        try await TollgateServer(settings: settings, logger: logger).run()
    }
}
