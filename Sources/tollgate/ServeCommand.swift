import ArgumentParser
import Configuration
import Foundation
import Logging
import NIOCore

/// `tollgate serve`: the engine, its ledger and the PBX socket server, until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the billing engine and the PBX socket server.",
        discussion: """
            Every setting can come from a flag, a TOLLGATE_* environment variable or the config file, in that order \
            of precedence. The config file is YAML, one "setting: value" a line; /etc/tollgate/tollgate.yaml, as the \
            Debian package installs it, describes them all with their defaults. A bad value stops the start with \
            the setting's names, the value and what is allowed.
            """)

    @Option(help: "A YAML config file (env TOLLGATE_CONFIG); settings: \(ServeSetting.allCases.map(\.rawValue).joined(separator: ", ")).")
    var config: String?
    @Option(name: .customLong("data-dir"), help: "Where the ledger lives (env TOLLGATE_DATA_DIR; default ./tollgate-data).")
    var dataDirectory: String?
    @Option(name: .customLong("pbx-listen"), help: "HOST:PORT for PBXs (env TOLLGATE_PBX_LISTEN; default 127.0.0.1:7070).")
    var pbxListen: String?
    @Option(name: .customLong("pbx-secret-file"), help: "A file holding the PBX shared secret (or env TOLLGATE_PBX_SECRET / TOLLGATE_PBX_SECRET_FILE).")
    var pbxSecretFile: String?
    @Option(name: .customLong("resync-grace"), help: "Seconds a restarted engine waits for PBXs to claim open calls (env TOLLGATE_RESYNC_GRACE; default 120).")
    var resyncGrace: String?
    @Option(name: .customLong("http-listen"), help: "HOST:PORT for the admin HTTP API (env TOLLGATE_HTTP_LISTEN; default 127.0.0.1:8080).")
    var httpListen: String?
    @Option(name: .customLong("license-dir"), help: "Where the license is kept, apart from billing data (env TOLLGATE_LICENSE_DIR; default DATA_DIR/license).")
    var licenseDirectory: String?
    @Option(name: .customLong("event-loops"), help: "NIO event-loop threads for the PBX socket and the admin API (env TOLLGATE_EVENT_LOOPS; default NIO's own, one per core).")
    var eventLoops: String?
    @Flag(name: .customLong("insecure-dev"), help: "Start without a PBX secret (development only).")
    var insecureDev = false
    @OptionGroup var log: LogOptions

    /// The flags given, by setting (checked with the rest in `ServeSettings.resolve`).
    var flags: [ServeSetting: String] {
        let given: [(ServeSetting, String?)] = [
            (.dataDir, dataDirectory), (.pbxListen, pbxListen), (.resyncGrace, resyncGrace),
            (.httpListen, httpListen), (.licenseDir, licenseDirectory), (.eventLoops, eventLoops),
            (.logLevel, log.level), (.logFormat, log.format),
        ]
        return Dictionary(uniqueKeysWithValues: given.compactMap { setting, value in value.map { (setting, $0) } })
    }

    /// Reads the config file if one is named, and resolves every setting.
    func settings(environment: [String: String]) async throws -> ServeSettings {
        let file: (any ConfigProvider)? = if let path = config ?? environment["TOLLGATE_CONFIG"] {
            try await ServeConfigFile.provider(path: path)
        } else {
            nil
        }
        return try ServeSettings.resolve(
            ServeSettings.reader(flags: flags, environment: environment, file: file),
            insecureDev: insecureDev, secretFileFlag: pbxSecretFile,
            readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
    }

    func run() async throws {
        let settings: ServeSettings
        do {
            settings = try await self.settings(environment: ProcessInfo.processInfo.environment)
        } catch let problem as ServeSettings.Problem {
            throw ValidationError(problem.description)
        }
        LogOptions.bootstrap(level: settings.logLevel, format: settings.logFormat)
        // Before anything touches the NIO singleton group: it is created with this many loops on first use.
        if let loops = settings.eventLoops { NIOSingletons.groupLoopCountSuggestion = loops }
        let logger = Logger(label: "tollgate")
        if settings.insecureDev { logger.warning("--insecure-dev: PBXs are accepted without a secret") }
        try await TollgateServer(settings: settings, logger: logger).run()
    }
}
