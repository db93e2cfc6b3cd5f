import Configuration
import Foundation
import Logging

/// `tollgate serve`'s settings, resolved once at start from a swift-configuration reader whose providers give the
/// precedence: flags > environment > config file > defaults. Every value is checked here; a bad one stops the
/// start with the setting's names, the value and what is allowed.
struct ServeSettings: Equatable {
    var dataDirectory = "./tollgate-data"
    var pbxHost = "127.0.0.1"
    var pbxPort = 7070
    /// The shared secret PBXs present; empty only with `insecureDev`.
    var pbxSecret = ""
    var insecureDev = false
    var resyncGraceSeconds = 120
    var heartbeatIntervalMillis: UInt32 = 10_000
    var maxFrameBytes = 65_536
    var httpHost = "127.0.0.1"
    var httpPort = 8080
    /// Where the license lives; outside the billing database (default: DATA_DIR/license).
    var licenseDirectory: String?
    /// The vendor's license-signing public key (base64), when not the built-in one.
    var vendorPublicKey: String?
    /// The administrator's password for a new installation (else generated into DATA_DIR/initial-admin-password).
    var initialAdminPassword: String?
    var bcryptCost: UInt8 = 12
    /// NIO event-loop threads for the PBX socket and the admin API; nil leaves NIO's own choice (one per core
    /// it may use). On 2 cores one loop lowered the 5,000-CPS authorize p99 in 3 of 4 runs back to back but made
    /// `cutoff-storm` and `throughput` worse in single runs (README, Performance), so it is an operator's choice.
    var eventLoops: Int?
    var logLevel = Logger.Level.info
    var logFormat = LineLogHandler.Format.text
    /// TLS on the PBX port (nil: plaintext).
    var pbxTLS: TLSFiles?
    /// TLS on the HTTP listener (nil: plaintext); the console's cookies are then `Secure`.
    var httpTLS: TLSFiles?

    struct Problem: Error, CustomStringConvertible, Equatable {
        var description: String
    }

    /// The reader over the three sources, highest first: `flags` (setting → value as typed), the `TOLLGATE_*`
    /// environment, and the config file's provider if there is one.
    static func reader(flags: [ServeSetting: String], environment: [String: String],
                       file: (any ConfigProvider)?) -> ConfigReader {
        let typed = InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map {
            (AbsoluteConfigKey([$0.key.rawValue]), ConfigValue(.string($0.value), isSecret: $0.key.isSecret))
        }))
        let environmentProvider = KeyMappingProvider(
            upstream: EnvironmentVariablesProvider(environmentVariables: environment),
            keyMapper: { $0.prepending(["tollgate"]) })
        var providers: [any ConfigProvider] = [typed, environmentProvider]
        if let file { providers.append(file) }
        return ConfigReader(providers: providers)
    }

    /// Resolves and checks every setting; `readFile` reads the secret file (injected for tests).
    /// `secretFileFlag` is `--pbx-secret-file`: a flag beats a secret from the environment or the file, which a
    /// reader cannot tell apart once `pbxSecret` and `pbxSecretFile` are separate keys.
    static func resolve(_ config: ConfigReader, insecureDev: Bool = false, secretFileFlag: String? = nil,
                        readFile: (String) throws -> String) throws -> ServeSettings {
        func text(_ setting: ServeSetting) -> String? {
            config.string(forKey: ConfigKey([setting.rawValue]), isSecret: setting.isSecret)
        }
        func integer(_ setting: ServeSetting, _ range: ClosedRange<Int>, unit: String = "") throws -> Int? {
            guard let value = text(setting) else { return nil }
            guard let number = Int(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
                throw Problem(description: "\(setting.names): \"\(value)\" is not allowed; "
                    + "a whole number from \(range.lowerBound) to \(range.upperBound)\(unit)")
            }
            return number
        }
        func listen(_ setting: ServeSetting) throws -> (String, Int)? {
            guard let value = text(setting) else { return nil }
            guard let address = parseListen(value) else {
                throw Problem(description: "\(setting.names): \"\(value)\" is not allowed; HOST:PORT or [IPv6]:PORT "
                    + "with a port from 0 to 65535")
            }
            return address
        }

        var settings = ServeSettings()
        settings.dataDirectory = text(.dataDir) ?? settings.dataDirectory
        if let (host, port) = try listen(.pbxListen) { (settings.pbxHost, settings.pbxPort) = (host, port) }
        if let (host, port) = try listen(.httpListen) { (settings.httpHost, settings.httpPort) = (host, port) }
        settings.resyncGraceSeconds = try integer(.resyncGrace, 0...86_400, unit: " seconds") ?? settings.resyncGraceSeconds
        if let heartbeat = try integer(.pbxHeartbeatIntervalMs, 1_000...600_000, unit: " ms") {
            settings.heartbeatIntervalMillis = UInt32(heartbeat)
        }
        settings.maxFrameBytes = try integer(.pbxMaxFrameBytes, 1_024...16_777_216, unit: " bytes") ?? settings.maxFrameBytes
        settings.eventLoops = try integer(.eventLoops, 1...256)
        if let cost = try integer(.bcryptCost, 4...31) { settings.bcryptCost = UInt8(cost) }
        settings.licenseDirectory = text(.licenseDir)
        settings.vendorPublicKey = text(.licensePublicKey)
        settings.initialAdminPassword = text(.adminPassword)
        if let value = text(.logLevel) {
            guard let level = Logger.Level(rawValue: value.lowercased()) else {
                throw Problem(description: "\(ServeSetting.logLevel.names): \"\(value)\" is not allowed; one of "
                    + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
            }
            settings.logLevel = level
        }
        if let value = text(.logFormat) {
            guard let format = LineLogHandler.Format(rawValue: value.lowercased()) else {
                throw Problem(description: "\(ServeSetting.logFormat.names): \"\(value)\" is not allowed; text or json")
            }
            settings.logFormat = format
        }

        func tlsFiles(certificate: ServeSetting, key: ServeSetting, clientCA: ServeSetting?) throws -> TLSFiles? {
            let (certificateFile, keyFile) = (text(certificate), text(key))
            let caFile = clientCA.flatMap { text($0) }
            guard let certificateFile, let keyFile else {
                guard certificateFile == nil, keyFile == nil, caFile == nil else {
                    throw Problem(description: "\(certificate.names) and \(key.names) go together"
                        + (clientCA.map { ", and \($0.rawValue) needs both" } ?? ""))
                }
                return nil
            }
            return TLSFiles(certificate: certificateFile, key: keyFile, clientCA: caFile)
        }

        settings.pbxTLS = try tlsFiles(certificate: .pbxTlsCertificate, key: .pbxTlsKey, clientCA: .pbxTlsClientCa)
        settings.httpTLS = try tlsFiles(certificate: .httpTlsCertificate, key: .httpTlsKey, clientCA: nil)

        settings.insecureDev = insecureDev
        // A secret given directly (environment or file) is used before a secret file named in them.
        var secret = secretFileFlag == nil ? text(.pbxSecret) : nil
        if secret == nil, let path = secretFileFlag ?? text(.pbxSecretFile) {
            do {
                secret = try readFile(path)
            } catch {
                throw Problem(description: "\(ServeSetting.pbxSecretFile.names): cannot read \(path): \(error.localizedDescription)")
            }
        }
        let trimmed = secret?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if trimmed.isEmpty && !insecureDev {
            throw Problem(description: """
                no PBX secret: set TOLLGATE_PBX_SECRET, or --pbx-secret-file FILE (pbxSecretFile in the config file, \
                TOLLGATE_PBX_SECRET_FILE), or start with --insecure-dev (development only: any PBX sending an empty \
                secret is accepted)
                """)
        }
        settings.pbxSecret = trimmed
        return settings
    }

    /// Parses `HOST:PORT` or `[IPv6]:PORT`.
    static func parseListen(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
