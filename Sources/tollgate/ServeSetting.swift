/// One setting of `tollgate serve`: its key in the config file, the environment variable that sets it, and the
/// flag if it has one. Precedence: flag > environment > config file > default.
enum ServeSetting: String, CaseIterable, Sendable {
    case dataDir, pbxListen, pbxSecret, pbxSecretFile, resyncGrace, pbxHeartbeatIntervalMs, pbxMaxFrameBytes
    case httpListen, licenseDir, licensePublicKey, adminPassword, bcryptCost, eventLoops, logLevel, logFormat
    case pbxTlsCertificate, pbxTlsKey, pbxTlsClientCa, httpTlsCertificate, httpTlsKey

    /// `TOLLGATE_` and the key in upper snake case, as swift-configuration's environment provider spells a key
    /// under the `tollgate` prefix: `pbxHeartbeatIntervalMs` is `TOLLGATE_PBX_HEARTBEAT_INTERVAL_MS`.
    var environmentName: String {
        var name = "TOLLGATE_"
        var previous: Character = "_"
        for character in rawValue {
            if previous.isLowercase && character.isUppercase { name.append("_") }
            name.append(Character(character.uppercased()))
            previous = character
        }
        return name
    }

    /// The command-line flag, for the settings that have one.
    var flag: String? {
        switch self {
        case .dataDir: "--data-dir"
        case .pbxListen: "--pbx-listen"
        case .pbxSecretFile: "--pbx-secret-file"
        case .resyncGrace: "--resync-grace"
        case .httpListen: "--http-listen"
        case .licenseDir: "--license-dir"
        case .eventLoops: "--event-loops"
        case .logLevel: "--log-level"
        case .logFormat: "--log-format"
        default: nil
        }
    }

    /// Never shown in an access log or an error message.
    var isSecret: Bool { self == .pbxSecret || self == .adminPassword }

    /// How a message names the setting: every way it can be set.
    var names: String {
        ([rawValue, environmentName] + (flag.map { [$0] } ?? [])).joined(separator: " / ")
    }
}
