import Testing
@testable import tollgate

@Suite("tollgate serve settings")
struct ServeSettingsTests {
    func resolve(_ flags: ServeSettings.Flags = .init(), env: [String: String] = [:],
                 file: ServeSettings.File? = nil) throws -> ServeSettings {
        try ServeSettings.resolve(flags: flags, environment: env, file: file) { path in "secret-from-\(path)\n" }
    }

    @Test("defaults, with a secret from the environment")
    func defaults() throws {
        let settings = try resolve(env: ["TOLLGATE_PBX_SECRET": "s"])
        #expect(settings.dataDirectory == "./tollgate-data" && settings.pbxHost == "127.0.0.1" && settings.pbxPort == 7070)
        #expect(settings.pbxSecret == "s" && settings.resyncGraceSeconds == 120)
    }

    @Test("flags beat the environment, which beats the config file")
    func precedence() throws {
        let file = ServeSettings.File(dataDir: "/file", pbxListen: "10.0.0.1:1", pbxSecretFile: "f", resyncGraceSeconds: 5)
        let fromFile = try resolve(file: file)
        #expect(fromFile.dataDirectory == "/file" && fromFile.pbxPort == 1 && fromFile.pbxSecret == "secret-from-f")
        let fromEnv = try resolve(env: ["TOLLGATE_DATA_DIR": "/env", "TOLLGATE_PBX_LISTEN": "[::1]:2",
                                        "TOLLGATE_PBX_SECRET": "e"], file: file)
        #expect(fromEnv.dataDirectory == "/env" && fromEnv.pbxHost == "::1" && fromEnv.pbxPort == 2)
        #expect(fromEnv.pbxSecret == "e")
        let fromFlags = try resolve(.init(dataDirectory: "/flag", pbxListen: "0.0.0.0:3", pbxSecretFile: "x"),
                                    env: ["TOLLGATE_DATA_DIR": "/env", "TOLLGATE_PBX_SECRET": "e"], file: file)
        #expect(fromFlags.dataDirectory == "/flag" && fromFlags.pbxPort == 3 && fromFlags.pbxSecret == "secret-from-x")
    }

    @Test("event loops: NIO's own count by default; flag, environment or file; absurd counts refused")
    func eventLoops() throws {
        let secret = ["TOLLGATE_PBX_SECRET": "s"]
        #expect(try resolve(env: secret).eventLoops == nil)
        #expect(try resolve(env: secret, file: .init(eventLoops: 3)).eventLoops == 3)
        #expect(try resolve(env: secret.merging(["TOLLGATE_EVENT_LOOPS": "2"]) { $1 }, file: .init(eventLoops: 3))
            .eventLoops == 2)
        #expect(try resolve(.init(eventLoops: 4), env: secret.merging(["TOLLGATE_EVENT_LOOPS": "2"]) { $1 })
            .eventLoops == 4)
        #expect(throws: ServeSettings.Problem.self) { try resolve(.init(eventLoops: 0), env: secret) }
        #expect(throws: ServeSettings.Problem.self) { try resolve(env: secret.merging(["TOLLGATE_EVENT_LOOPS": "1000"]) { $1 }) }
    }

    @Test("no secret refuses to start unless --insecure-dev")
    func secretRequired() throws {
        #expect(throws: ServeSettings.Problem.self) { try resolve() }
        #expect(throws: ServeSettings.Problem.self) { try resolve(env: ["TOLLGATE_PBX_SECRET": "  "]) }
        #expect(try resolve(.init(insecureDev: true)).pbxSecret == "")
    }

    @Test("bad listen addresses and absurd values are refused", arguments: ["7070", "host:", ":70", "h:99999", "h:x"])
    func badListen(listen: String) {
        #expect(throws: ServeSettings.Problem.self) {
            try resolve(.init(pbxListen: listen), env: ["TOLLGATE_PBX_SECRET": "s"])
        }
    }
}
