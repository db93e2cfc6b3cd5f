import ArgumentParser
import Configuration
import Foundation
import TestSupport
import Testing
@testable import tollgate

@Suite("tollgate serve settings: flags > environment > config file > defaults")
struct ServeSettingsTests {
    /// Resolves as `serve` does, with a config file written from `yaml` when given.
    func resolve(_ arguments: [String] = [], env: [String: String] = [:], yaml: String? = nil) async throws -> ServeSettings {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        var arguments = arguments
        if let yaml {
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: directory.file("tollgate.yaml")))
            arguments += ["--config", directory.file("tollgate.yaml")]
        }
        let command = try ServeCommand.parse(arguments)
        let file: (any ConfigProvider)? = if let path = command.config {
            try await ServeConfigFile.provider(path: path)
        } else {
            nil
        }
        return try ServeSettings.resolve(
            ServeSettings.reader(flags: command.flags, environment: env, file: file),
            insecureDev: command.insecureDev, secretFileFlag: command.pbxSecretFile) { path in "secret-from-\(path)\n" }
    }

    /// The message a refused start prints.
    func problem(_ arguments: [String] = [], env: [String: String] = ["TOLLGATE_PBX_SECRET": "s"],
                 yaml: String? = nil) async -> String? {
        do {
            _ = try await resolve(arguments, env: env, yaml: yaml)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("defaults, with a secret from the environment")
    func defaults() async throws {
        let settings = try await resolve(env: ["TOLLGATE_PBX_SECRET": "s"])
        #expect(settings.dataDirectory == "./tollgate-data" && settings.pbxHost == "127.0.0.1" && settings.pbxPort == 7070)
        #expect(settings.pbxSecret == "s" && settings.resyncGraceSeconds == 120 && settings.eventLoops == nil)
        #expect(settings.logLevel == .info && settings.logFormat == .text && settings.heartbeatIntervalMillis == 10_000)
    }

    @Test("flags beat the environment, which beats the config file")
    func precedence() async throws {
        let yaml = """
            # comments are fine
            dataDir: /file
            pbxListen: "10.0.0.1:1"
            pbxSecretFile: f
            resyncGrace: 5
            eventLoops: 3
            logFormat: json
            """
        let fromFile = try await resolve(yaml: yaml)
        #expect(fromFile.dataDirectory == "/file" && fromFile.pbxPort == 1 && fromFile.pbxSecret == "secret-from-f")
        #expect(fromFile.resyncGraceSeconds == 5 && fromFile.eventLoops == 3 && fromFile.logFormat == .json)
        let env = ["TOLLGATE_DATA_DIR": "/env", "TOLLGATE_PBX_LISTEN": "[::1]:2", "TOLLGATE_PBX_SECRET": "e",
                   "TOLLGATE_EVENT_LOOPS": "2", "TOLLGATE_LOG_FORMAT": "text"]
        let fromEnv = try await resolve(env: env, yaml: yaml)
        #expect(fromEnv.dataDirectory == "/env" && fromEnv.pbxHost == "::1" && fromEnv.pbxPort == 2)
        #expect(fromEnv.pbxSecret == "e" && fromEnv.eventLoops == 2 && fromEnv.logFormat == .text)
        let fromFlags = try await resolve(
            ["--data-dir", "/flag", "--pbx-listen", "0.0.0.0:3", "--pbx-secret-file", "x", "--event-loops", "4",
             "--log-format", "json"], env: env, yaml: yaml)
        #expect(fromFlags.dataDirectory == "/flag" && fromFlags.pbxPort == 3 && fromFlags.pbxSecret == "secret-from-x")
        #expect(fromFlags.eventLoops == 4 && fromFlags.logFormat == .json)
    }

    @Test("every setting is read under its environment name, through swift-configuration's own key mapping")
    func environmentNames() async throws {
        #expect(ServeSetting.pbxHeartbeatIntervalMs.environmentName == "TOLLGATE_PBX_HEARTBEAT_INTERVAL_MS")
        #expect(ServeSetting.licensePublicKey.environmentName == "TOLLGATE_LICENSE_PUBLIC_KEY")
        let values: [ServeSetting: String] = [
            .dataDir: "/d", .pbxListen: "127.0.0.2:1", .pbxSecret: "sec", .pbxSecretFile: "unused",
            .resyncGrace: "7", .pbxHeartbeatIntervalMs: "2000", .pbxMaxFrameBytes: "4096", .httpListen: "127.0.0.3:2",
            .licenseDir: "/l", .licensePublicKey: "k", .adminPassword: "pw", .bcryptCost: "5", .eventLoops: "1",
            .logLevel: "debug", .logFormat: "json", .pbxTlsCertificate: "/c.pem", .pbxTlsKey: "/k.pem",
            .pbxTlsClientCa: "/ca.pem", .httpTlsCertificate: "/hc.pem", .httpTlsKey: "/hk.pem",
        ]
        #expect(Set(values.keys) == Set(ServeSetting.allCases))
        let env = Dictionary(uniqueKeysWithValues: values.map { ($0.key.environmentName, $0.value) })
        let settings = try await resolve(env: env)
        var expected = ServeSettings()
        expected.dataDirectory = "/d"
        (expected.pbxHost, expected.pbxPort) = ("127.0.0.2", 1)
        expected.pbxSecret = "sec"
        expected.resyncGraceSeconds = 7
        expected.heartbeatIntervalMillis = 2_000
        expected.maxFrameBytes = 4_096
        (expected.httpHost, expected.httpPort) = ("127.0.0.3", 2)
        expected.licenseDirectory = "/l"
        expected.vendorPublicKey = "k"
        expected.initialAdminPassword = "pw"
        expected.bcryptCost = 5
        expected.eventLoops = 1
        expected.logLevel = .debug
        expected.logFormat = .json
        expected.pbxTLS = TLSFiles(certificate: "/c.pem", key: "/k.pem", clientCA: "/ca.pem")
        expected.httpTLS = TLSFiles(certificate: "/hc.pem", key: "/hk.pem", clientCA: nil)
        #expect(ServeSetting.pbxTlsClientCa.environmentName == "TOLLGATE_PBX_TLS_CLIENT_CA")
        #expect(settings == expected)
        // The same values from a config file.
        let yaml = values.map { "\($0.key.rawValue): \"\($0.value)\"" }.sorted().joined(separator: "\n")
        #expect(try await resolve(yaml: yaml) == expected)
    }

    @Test("no secret refuses to start unless --insecure-dev")
    func secretRequired() async throws {
        #expect(await problem(env: [:])?.hasPrefix("no PBX secret") == true)
        #expect(await problem(env: ["TOLLGATE_PBX_SECRET": "  "])?.hasPrefix("no PBX secret") == true)
        #expect(try await resolve(["--insecure-dev"]).pbxSecret == "")
    }

    @Test("a bad value names the setting, the value and what is allowed")
    func badValues() async {
        #expect(await problem(["--pbx-listen", "7070"]) == """
            pbxListen / TOLLGATE_PBX_LISTEN / --pbx-listen: "7070" is not allowed; HOST:PORT or [IPv6]:PORT with a \
            port from 0 to 65535
            """)
        #expect(await problem(env: ["TOLLGATE_PBX_SECRET": "s", "TOLLGATE_EVENT_LOOPS": "1000"]) == """
            eventLoops / TOLLGATE_EVENT_LOOPS / --event-loops: "1000" is not allowed; a whole number from 1 to 256
            """)
        #expect(await problem(yaml: "resyncGrace: soon") == """
            resyncGrace / TOLLGATE_RESYNC_GRACE / --resync-grace: "soon" is not allowed; a whole number from 0 to \
            86400 seconds
            """)
        #expect(await problem(["--log-level", "loud"])?.contains("\"loud\" is not allowed; one of trace, debug") == true)
        #expect(await problem(["--log-format", "xml"])?.hasSuffix("\"xml\" is not allowed; text or json") == true)
        #expect(await problem(yaml: "pbxMaxFrameBytes: 10")?.contains("from 1024 to 16777216 bytes") == true)
        #expect(await problem(yaml: "bcryptCost: 40")?.contains("bcryptCost / TOLLGATE_BCRYPT_COST: \"40\"") == true)
        #expect(await problem(yaml: "pbxTlsCertificate: /c.pem")?.contains("go together") == true)
        #expect(await problem(yaml: "pbxTlsClientCa: /ca.pem")?.contains("pbxTlsClientCa needs both") == true)
    }

    @Test("bad listen addresses are refused", arguments: ["7070", "host:", ":70", "h:99999", "h:x"])
    func badListen(listen: String) async {
        #expect(await problem(["--pbx-listen", listen])?.contains("is not allowed") == true)
    }

    @Test("the config file: a typo, a nested value or an empty one stops the start, naming the line")
    func fileChecks() async {
        let typo = await problem(yaml: "dataDir: /x\npbxListn: \"1.2.3.4:5\"\n")
        #expect(typo?.contains("line 2: \"pbxListn\" is not a setting; the settings are dataDir, pbxListen") == true)
        #expect(await problem(yaml: "pbxListen:\n  host: a\n")?.contains("line 1: pbxListen needs one value") == true)
        #expect(await problem(yaml: "dataDir:\n")?.contains("dataDir needs one value") == true)
        #expect(await problem(yaml: "- a\n- b\n")?.contains("must be a mapping of setting: value") == true)
        #expect(await problem(yaml: "a: [\n")?.contains("not valid YAML") == true)
        #expect(await problem(yaml: "# all defaults\n") == nil)
        #expect(await problem(yaml: #"{"dataDir": "/json", "resyncGrace": 3}"#) == nil)
        #expect(await problem(["--config", "/nonexistent/tollgate.yaml"])?.contains("cannot read it") == true)
    }

    @Test("the shipped config file describes every setting, and as shipped changes only the data directory")
    func shippedFile() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("packaging/tollgate.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for setting in ServeSetting.allCases {
            #expect(text.contains("# \(setting.rawValue):"), "packaging/tollgate.yaml does not describe \(setting.rawValue)")
        }
        var expected = ServeSettings()
        expected.pbxSecret = "s"
        expected.dataDirectory = "/var/lib/tollgate"
        #expect(try await resolve(env: ["TOLLGATE_PBX_SECRET": "s"], yaml: text) == expected)
    }
}
