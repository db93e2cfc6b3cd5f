import Foundation

/// `tollgate serve`'s settings, resolved once in `main`: flags > environment > config file > defaults.
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

    /// What a `--config` JSON file may set.
    struct File: Decodable {
        var dataDir: String?
        var pbxListen: String?
        var pbxSecretFile: String?
        var resyncGraceSeconds: Int?
        var heartbeatIntervalMs: UInt32?
        var maxFrameBytes: Int?
        var httpListen: String?
        var licenseDir: String?
        var eventLoops: Int?
    }

    /// What the command line set.
    struct Flags {
        var dataDirectory: String?
        var pbxListen: String?
        var pbxSecretFile: String?
        var insecureDev = false
        var resyncGraceSeconds: Int?
        var httpListen: String?
        var licenseDirectory: String?
        var eventLoops: Int?
    }

    struct Problem: Error, CustomStringConvertible, Equatable {
        var description: String
    }

    /// Resolves settings; `readFile` reads the secret file (injected for tests).
    static func resolve(flags: Flags, environment: [String: String], file: File?,
                        readFile: (String) throws -> String) throws -> ServeSettings {
        var settings = ServeSettings()
        if let dir = flags.dataDirectory ?? environment["TOLLGATE_DATA_DIR"] ?? file?.dataDir {
            settings.dataDirectory = dir
        }
        if let listen = flags.pbxListen ?? environment["TOLLGATE_PBX_LISTEN"] ?? file?.pbxListen {
            (settings.pbxHost, settings.pbxPort) = try parseListen(listen)
        }
        if let grace = flags.resyncGraceSeconds ?? environment["TOLLGATE_RESYNC_GRACE"].flatMap(Int.init)
            ?? file?.resyncGraceSeconds
        {
            guard (0...86_400).contains(grace) else { throw Problem(description: "resync grace must be 0 to 86400 s") }
            settings.resyncGraceSeconds = grace
        }
        if let heartbeat = file?.heartbeatIntervalMs {
            guard (1_000...600_000).contains(heartbeat) else {
                throw Problem(description: "heartbeatIntervalMs must be 1000 to 600000")
            }
            settings.heartbeatIntervalMillis = heartbeat
        }
        if let maxFrame = file?.maxFrameBytes {
            guard (1_024...16_777_216).contains(maxFrame) else {
                throw Problem(description: "maxFrameBytes must be 1024 to 16777216")
            }
            settings.maxFrameBytes = maxFrame
        }
        if let listen = flags.httpListen ?? environment["TOLLGATE_HTTP_LISTEN"] ?? file?.httpListen {
            (settings.httpHost, settings.httpPort) = try parseListen(listen)
        }
        if let loops = flags.eventLoops ?? environment["TOLLGATE_EVENT_LOOPS"].flatMap(Int.init) ?? file?.eventLoops {
            guard (1...256).contains(loops) else { throw Problem(description: "event loops must be 1 to 256") }
            settings.eventLoops = loops
        }
        settings.licenseDirectory = flags.licenseDirectory ?? environment["TOLLGATE_LICENSE_DIR"] ?? file?.licenseDir
        settings.vendorPublicKey = environment["TOLLGATE_LICENSE_PUBLIC_KEY"]
        settings.initialAdminPassword = environment["TOLLGATE_ADMIN_PASSWORD"]
        if let cost = environment["TOLLGATE_BCRYPT_COST"] {
            guard let value = UInt8(cost), (4...31).contains(value) else {
                throw Problem(description: "TOLLGATE_BCRYPT_COST must be 4 to 31")
            }
            settings.bcryptCost = value
        }
        settings.insecureDev = flags.insecureDev
        var secret: String?
        if let path = flags.pbxSecretFile {
            secret = try readFile(path)
        } else if let value = environment["TOLLGATE_PBX_SECRET"] {
            secret = value
        } else if let path = environment["TOLLGATE_PBX_SECRET_FILE"] ?? file?.pbxSecretFile {
            secret = try readFile(path)
        }
        let trimmed = secret?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if trimmed.isEmpty && !settings.insecureDev {
            throw Problem(description: """
                no PBX secret: set TOLLGATE_PBX_SECRET, or --pbx-secret-file FILE, or start with --insecure-dev \
                (development only: any PBX sending an empty secret is accepted)
                """)
        }
        settings.pbxSecret = trimmed
        return settings
    }

    /// Parses `HOST:PORT` or `[IPv6]:PORT`.
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { throw Problem(description: "listen address must be HOST:PORT, got \"\(text)\"") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw Problem(description: "listen address must be HOST:PORT, got \"\(text)\"") }
        return (host, port)
    }
}
