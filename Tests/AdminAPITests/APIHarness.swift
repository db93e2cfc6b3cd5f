import AdminAPI
import AdminConsole
import Administration
import AdminClient
import BillingCore
import Foundation
import Hummingbird
import Logging
import Ledger
import Metering
import PBXServer
import Synchronization
import TestSupport
import Testing

let t0: Int64 = 1_700_000_000_000
let adminPassword = "admin-password-1"
/// A vendor key pair made for the tests; the server trusts its public half.
let vendorKeys = License.makeVendorKeys()

/// `tollgate serve`'s API over a real SQLite file and a real loopback HTTP connection, on a manual clock.
final class APIHarness: Sendable {
    let directory: TemporaryDirectory
    let clock = ManualClock()
    let ledger: SQLiteLedger
    let engine: MeteringEngine
    let operations: AdminOperations
    let port: Int
    let hangups = HangupRecorder()
    /// What the operations logged.
    let log = CapturedLog()
    /// The PBX socket's port when the harness runs a real `PBXServer` (then hang-ups go to it).
    let pbxPort: Int?
    private let tasks: [Task<Void, any Error>]

    /// With `pbxServer`, a real PBX server runs on the same engine and operator hang-ups are pushed through it,
    /// as in `tollgate serve`; without, they are only recorded.
    init(directory: TemporaryDirectory? = nil, pbxServer: Bool = false) async throws {
        let directory = try directory ?? TemporaryDirectory("api")
        self.directory = directory
        let ledger = try SQLiteLedger(path: directory.file("tollgate.sqlite"))
        self.ledger = ledger
        let writer = Task<Void, any Error> { await ledger.run() }
        engine = MeteringEngine(clock: clock, originEpochMillis: t0, journal: ledger,
            restoring: try await ledger.load())
        let hangups = hangups
        let engine = engine
        let pbx = pbxServer ? PBXServer(engine: engine, configuration: .init(
            port: 0, session: .init(secret: "s3cret", serverVersion: "test"))) : nil
        operations = try await AdminOperations(
            engine: engine, ledger: ledger,
            configuration: .init(licenseDirectory: directory.file("license"),
                                 vendorPublicKey: vendorKeys.publicKey, bcryptCost: 4, version: "test",
                                 initialAdminPassword: adminPassword,
                                 initialPasswordFile: directory.file("initial-admin-password")),
            hangup: { callID, reason in
                if let pbx { return try pbx.hangup(callID: callID, reason: reason) }
                guard engine.isLive(callID: callID) else {
                    throw TollgateError(.notFound, "no live call", field: "callId")
                }
                hangups.calls.withLock { $0.append(callID) }
            }, logger: log.logger)
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let operations = operations
        // The API and the console on one listener, as `tollgate serve` runs them.
        let application = AdminHTTPServer.application(
            operations: operations, surfaces: [AdminAPI(operations: operations), try AdminConsole(operations: operations)],
            host: "127.0.0.1", port: 0, onBound: { bound.yield($0) }, logger: Logger(label: "test.http"))
        let server = Task<Void, any Error> {
            try await operations.prepare()
            try await application.runService(gracefulShutdownSignals: [])
        }
        var iterator = ports.makeAsyncIterator()
        port = await iterator.next() ?? 0
        if let pbx {
            let (pbxPorts, pbxBound) = AsyncStream<Int>.makeStream()
            let pbxTask = Task<Void, any Error> { try await pbx.run { pbxBound.yield($0) } }
            var pbxIterator = pbxPorts.makeAsyncIterator()
            pbxPort = await pbxIterator.next()
            tasks = [writer, server, pbxTask]
        } else {
            pbxPort = nil
            tasks = [writer, server]
        }
    }

    func client(_ token: String? = nil) -> AdminHTTPClient { AdminHTTPClient(host: "127.0.0.1", port: port, token: token) }

    func stop() async throws {
        for task in tasks.dropFirst() { task.cancel() }
        try await ledger.close()
        _ = try? await tasks[0].value
    }

    func advance(ms: Int64) async {
        clock.advance(by: .milliseconds(ms))
        await engine.scheduler.fireDue()
    }

    /// Signs in; returns the token (nil when refused).
    func login(_ user: String, _ password: String) async throws -> String? {
        let reply = try await client().send("POST", "/api/v1/auth/login", body: json(["user": user, "password": password]))
        return reply.status == 200 ? try object(reply)["token"] as? String : nil
    }

    /// Activates billing as the administrator, creates a billing user and signs it in.
    func billingUser() async throws -> (admin: String, token: String, name: String, password: String) {
        let admin = try #require(try await login("admin", adminPassword))
        _ = try await client(admin).send("PUT", "/api/v1/admin/billing", body: json(["enabled": true]))
        let created = try object(try await client(admin).send("POST", "/api/v1/admin/users"))
        let name = try #require(created["name"] as? String)
        let password = try #require(created["password"] as? String)
        let token = try #require(try await login(name, password))
        return (admin, token, name, password)
    }
}

func json(_ value: Any) -> [UInt8] { Array(try! JSONSerialization.data(withJSONObject: value)) }

func object(_ reply: HTTPReply) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any], "\(reply.status) \(reply.text)")
}

func list(_ reply: HTTPReply) throws -> [[String: Any]] {
    try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]], "\(reply.status) \(reply.text)")
}


/// The operator hang-ups the API asked the PBX side for.
final class HangupRecorder: Sendable {
    let calls = Mutex<[String]>([])
}
