import AdminAPI
import AdminConsole
import Administration
import BillingCore
import Foundation
import Hummingbird
import Logging
import Ledger
import Metering
import PBXServer
import PBXWire
import Synchronization

/// The demo: the engine, its SQLite ledger and the PBX socket server run in process on the real clock, and a
/// simulated PBX places calls over the real socket, printing a live table as it goes.
///
/// It plays a hotel: one room has two calls on one small balance (warned, then both cut at their exact
/// boundaries), another calls abroad with a connection fee and gets a recharge mid-call, a postpaid office runs on
/// credit, a locked lobby phone and a broke booth are denied, an emergency call goes through free, and a staff
/// phone is not billed. The set-up and the recharge go to the engine directly; the API and the web console run on
/// the same engine throughout, and at the end the demo prints the console's address with a billing user's and the
/// administrator's credentials (with `keep`, it serves them until Ctrl-C).
final class Demo: Sendable {
    let ledger: SQLiteLedger
    let engine: MeteringEngine
    let server: PBXServer
    let operations: AdminOperations
    let seconds: Int
    let keep: Bool
    let httpHost: String
    let httpPort: Int
    private let adminPassword = "demo-" + SessionStore.randomToken().prefix(12)
    private let secret = UUID().uuidString
    private let answered = Mutex<[String: Int64]>([:])
    private let start: Int64

    init(ledger: SQLiteLedger, directory: String, seconds: Int, keep: Bool, httpHost: String, httpPort: Int) async throws {
        self.ledger = ledger
        self.seconds = seconds
        self.keep = keep
        self.httpHost = httpHost
        self.httpPort = httpPort
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        engine = MeteringEngine(clock: ContinuousClock(), originEpochMillis: now, journal: ledger,
            restoring: try await ledger.load())
        let server = PBXServer(engine: engine, configuration: .init(
            port: 0, session: .init(secret: secret, serverVersion: Tollgate.version)))
        self.server = server
        let dataURL = URL(fileURLWithPath: directory)
        operations = try await AdminOperations(
            engine: engine, ledger: ledger,
            configuration: .init(licenseDirectory: dataURL.appendingPathComponent("license").path, version: Tollgate.version,
                                 initialAdminPassword: adminPassword,
                                 initialPasswordFile: dataURL.appendingPathComponent("initial-admin-password").path,
                                 pbxConnections: { server.connectionCount }),
            hangup: { callID, reason in try server.hangup(callID: callID, reason: reason) })
        start = engine.nowMillis()
    }

    private typealias Action = @Sendable (DemoPBX, MeteringEngine) async throws -> String

    private struct Step {
        let at: Int64
        let label: String
        let action: Action
    }

    /// Runs the demo; returns whether `verify` found the ledger clean.
    func run() async throws -> Bool {
        let writer = Task { await ledger.run() }
        let ticking = Task { try await engine.run() }
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let serving = Task { [server] in try await server.run { bound.yield($0) } }
        var portIterator = ports.makeAsyncIterator()
        guard let port = await portIterator.next() else { return false }
        let recovered = try await engine.settleUnclaimed()
        if !recovered.isEmpty { print("settled \(recovered.count) call(s) left open by an earlier run") }
        // The console runs from the start, on the same engine: it can be watched while the calls run.
        try await operations.prepare()
        let demoOperator = AdminSession(user: "demo", role: .admin, expiresAt: .max, csrfToken: "")
        _ = try await operations.setBilling(enabled: true, by: demoOperator)
        let (httpPorts, httpBound) = AsyncStream<Int>.makeStream()
        let application = AdminHTTPServer.application(
            operations: operations, surfaces: [AdminAPI(operations: operations), try AdminConsole(operations: operations)],
            host: httpHost, port: httpPort, onBound: { httpBound.yield($0) }, logger: Logger(label: "tollgate.http"))
        let http = Task { try await application.runService(gracefulShutdownSignals: []) }
        var httpIterator = httpPorts.makeAsyncIterator()
        guard let consolePort = await httpIterator.next() else { return false }
        try await setUp()
        print("Tollgate demo: engine and PBX server on 127.0.0.1:\(port); a simulated PBX places \(seconds) s of calls "
            + "over the socket, billed per second on the real clock.\n")
        try await DemoPBX.connect(port: port, onPush: { [self] pbx, push in await self.handle(push, from: pbx) }) { [self] pbx in
            let hello = try await pbx.request {
                PBXClientCodec.hello(correlationID: $0, nodeID: "demo-pbx", secret: secret, software: "tollgate-demo")
            }
            guard case .helloReply(let session, _) = hello.body else { throw DemoError(hello.status?.message ?? "handshake failed") }
            print("[\(clock())] PBX connected, session \(session.prefix(8))…")
            try await play(pbx)
        }
        try await ledger.flush()
        let clean = try await summary()
        let user = try await operations.createBillingUser(named: nil)
        print("""

            Web console: http://\(httpHost):\(consolePort)/
              billing user:  \(user.name)  password \(user.password)
              administrator: admin  password \(adminPassword)
            """)
        if keep {
            print("Serving the console, the API and the PBX socket on the demo's data until Ctrl-C.")
            await Self.untilInterrupted()
        }
        http.cancel()
        _ = try? await http.value
        serving.cancel()
        _ = try? await serving.value
        ticking.cancel()
        _ = try? await ticking.value
        try await ledger.close()
        await writer.value
        return clean
    }

    /// Returns at SIGINT or SIGTERM.
    private static func untilInterrupted() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }

    private func play(_ pbx: DemoPBX) async throws {
        var steps = script()
        var nextTable: Int64 = 1_000
        let end = Int64(seconds) * 1000
        while elapsed() <= end {
            while let step = steps.first, step.at <= elapsed() {
                steps.removeFirst()
                let outcome = (try? await step.action(pbx, engine)) ?? "refused"
                print("[\(clock())] \(step.label): \(outcome)")
            }
            if elapsed() >= nextTable {
                await printTable()
                nextTable += seconds > 30 ? 5_000 : 3_000
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        for call in await engine.liveCalls() {
            let id = call.callID
            _ = try await pbx.request {
                PBXClientCodec.ended(correlationID: $0, callID: id, billableMillis: self.billable(id), cause: "NORMAL_CLEARING")
            }
        }
    }

    private func setUp() async throws {
        var policy = engine.policy
        policy.warningLeadMillis = 5_000
        try await engine.setPolicy(policy)
        let accounts: [(String, String, AccountChange, String?)] = [
            ("8101", "Room 101", AccountChange(billingEnabled: true), "0.30"),
            ("8102", "Room 102", AccountChange(billingEnabled: true), "0.40"),
            ("8201", "Office", AccountChange(credit: Money(micros: 2_000_000), paymentType: .postpaid, billingEnabled: true), nil),
            ("8301", "Lobby", AccountChange(status: .locked, billingEnabled: true), "5.00"),
            ("8401", "Staff", AccountChange(billingEnabled: false), nil),
            ("8501", "Booth", AccountChange(billingEnabled: true), nil),
        ]
        for (number, name, change, balance) in accounts {
            try await engine.ensureExtension(number: number, userName: name)
            _ = try await engine.updateExtension(number: number, change)
            if let balance {
                _ = try await engine.recharge(number: number, amount: try Money(parsing: balance), operatorName: "setup",
                                              note: "opening balance", idempotencyKey: "sim-\(start)-\(number)")
            }
        }
        let everyone: Set<String> = Set(accounts.map(\.0))
        try await engine.saveRate(try Rate(id: 1, remarks: "local", prefix: "0", tariff: Tariff(
            rate: Money(micros: 20_000), unit: 1), extensions: everyone))
        try await engine.saveRate(try Rate(id: 2, remarks: "international", prefix: "00", tariff: Tariff(
            initialCost: Money(micros: 100_000), initialTime: 5, rate: Money(micros: 50_000), unit: 2),
            extensions: everyone))
    }

    private func script() -> [Step] {
        func call(_ id: String, _ ext: String, _ number: String) -> Action {
            { pbx, _ in
                let reply = try await pbx.request {
                    PBXClientCodec.authorize(correlationID: $0, callID: id, extensionNumber: ext, dialled: number)
                }
                guard case .authorizeReply(let allowed, let reason, let unbilled, let grant, let rateID) = reply.body else {
                    return "error \(reply.status?.message ?? "")"
                }
                guard allowed else { return "DENIED \(reason)" }
                // The PBX stamps the answer before telling the engine; the engine caps what it bills by its own view.
                self.answered.withLock { $0[id] = self.engine.nowMillis() }
                _ = try await pbx.request { PBXClientCodec.answered(correlationID: $0, callID: id) }
                if unbilled { return "allowed, unbilled, answered" }
                let grantText = grant.map { String(format: " grant %.1f s,", Double($0) / 1000) } ?? ""
                return "allowed on rate \(rateID ?? 0),\(grantText) answered"
            }
        }
        let half = Int64(seconds) * 500
        return [
            Step(at: 0, label: "8101 Room 101 dials 0301234 (local)", action: call("room101-a", "8101", "0301234")),
            Step(at: 500, label: "8101 Room 101 dials 0305678 (second call, same balance)", action: call("room101-b", "8101", "0305678")),
            Step(at: 1_000, label: "8102 Room 102 dials 00441632960 (international)", action: call("room102", "8102", "00441632960")),
            Step(at: 1_500, label: "8201 Office (postpaid) dials 0201234", action: call("office", "8201", "0201234")),
            Step(at: 2_000, label: "8301 Lobby (locked) dials 0201234", action: call("lobby", "8301", "0201234")),
            Step(at: 2_500, label: "8501 Booth (no money) dials 0201234", action: call("booth", "8501", "0201234")),
            Step(at: 3_000, label: "8501 Booth dials 112 (emergency)", action: call("booth-112", "8501", "112")),
            Step(at: 3_500, label: "8401 Staff (billing off) dials 0201234", action: call("staff", "8401", "0201234")),
            Step(at: half, label: "front desk recharges 8102 by 1.00", action: { _, engine in
                let record = try await engine.recharge(number: "8102", amount: Money(micros: 1_000_000),
                                                       operatorName: "front desk", note: "cash")
                return "balance \(record.balanceBefore.formatted()) -> \(record.balanceAfter.formatted())"
            }),
            Step(at: half + 2_000, label: "8201 Office hangs up", action: { pbx, _ in
                let reply = try await pbx.request {
                    PBXClientCodec.ended(correlationID: $0, callID: "office", billableMillis: self.billable("office"),
                                         cause: "NORMAL_CLEARING")
                }
                guard case .endedReply(_, let billed, let cost, _) = reply.body else { return "error" }
                return String(format: "settled %.3f s, cost ", Double(billed) / 1000) + Money(micros: cost).formatted()
            }),
        ]
    }

    private func billable(_ id: String) -> Int64 {
        max(0, engine.nowMillis() - (answered.withLock { $0[id] } ?? engine.nowMillis()))
    }

    /// The PBX side of the pushes: acknowledge each; hang up on a cutoff; report warnings.
    private func handle(_ push: PBXClientCodec.ServerMessage, from pbx: DemoPBX) async {
        switch push.body {
        case .cutoff(let id, let boundary):
            print("[\(clock())] CUTOFF \(id): paid up to \(offset(boundary)), received "
                + "\(engine.nowMillis() - boundary) ms after the boundary; hanging up")
            let answeredAt = answered.withLock { $0[id] } ?? boundary
            // Never wait for a reply here: replies arrive through this same reader.
            Task {
                _ = try? await pbx.request {
                    PBXClientCodec.ended(correlationID: $0, callID: id, billableMillis: boundary - answeredAt, cause: "CUTOFF")
                }
            }
        case .warning(let id, let left, let cutoffAt):
            print("[\(clock())] WARNING \(id): cut in \(left) s (at \(offset(cutoffAt))) unless money arrives")
        default:
            break
        }
    }

    private func elapsed() -> Int64 { engine.nowMillis() - start }
    private func offset(_ instant: Int64) -> String { String(format: "+%.3fs", Double(instant - start) / 1000) }
    private func clock() -> String { String(format: "+%6.2fs", Double(elapsed()) / 1000) }

    private func printTable() async {
        let calls = await engine.liveCalls()
        var table = TextTable(headers: ["call", "ext", "dialled", "up (s)", "charged", "balance", "state"])
        for call in calls {
            let balance = await engine.extensionAccount(number: call.extensionNumber)?.balance ?? .zero
            let up = call.answeredAt.map { String(format: "%.1f", Double(engine.nowMillis() - $0) / 1000) } ?? "-"
            let state = call.cutAt != nil ? "cut" : !call.isBilled ? "unbilled" : "charging"
            table.rows.append([call.callID, call.extensionNumber, call.dialled, up, call.charged.formatted(),
                               balance.formatted(), state])
        }
        print("\n[\(clock())] live calls: \(calls.count)\n\(table.render())\n")
    }

    private func summary() async throws -> Bool {
        let calls = try await ledger.calls(HistoryQuery(from: start - 1, limit: 100)).reversed()
        var log = TextTable(headers: ["call", "ext", "user", "dialled", "billable (s)", "cost", "result", "reason"])
        for call in calls {
            log.rows.append([call.callID, call.extensionNumber, call.userName, call.dialled,
                             String(format: "%.3f", Double(call.billableMillis) / 1000), call.cost.formatted(),
                             call.result.rawValue, call.reason])
        }
        print("\nCall log (from the ledger)\n\(log.render())")
        var balances = TextTable(headers: ["ext", "user", "payment", "status", "billing", "balance", "credit", "recharged"])
        for account in try await ledger.load().accounts.map(\.account) {
            balances.rows.append([account.number, account.userName, account.paymentType.rawValue,
                                  account.status.rawValue, account.billingEnabled ? "on" : "off",
                                  account.balance.formatted(), account.credit.formatted(),
                                  account.totalRecharges.formatted()])
        }
        print("\nBalances\n\(balances.render())")
        let stats = engine.scheduler.stats.snapshot()
        print("\ntick lateness: p50 \(stats.latenessP50Micros) µs, p99 \(stats.latenessP99Micros) µs, "
            + "max \(stats.latenessMaxMicros) µs over \(stats.wakes) wake-ups")
        let problems = try await ledger.verify()
        print(problems.isEmpty ? "verify: every balance equals its ledger" : "verify: \(problems.count) difference(s)")
        for problem in problems { print("  \(problem)") }
        return problems.isEmpty
    }
}
