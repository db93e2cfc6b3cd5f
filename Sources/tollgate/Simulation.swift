import BillingCore
import Foundation
import Ledger
import Metering
import Synchronization

/// A scripted PBX driving the engine in process, on the real clock, printing a live table each second.
///
/// It plays a hotel: two rooms share nothing, one room has two calls on one small balance (both cut, at their
/// exact boundaries), a postpaid office runs on credit, a locked lobby phone and a broke booth are denied, an
/// emergency call goes through free, a staff phone is not billed, and a recharge lands mid-call.
final class Simulation: Sendable {
    let ledger: SQLiteLedger
    let engine: MeteringEngine<ContinuousClock>
    let seconds: Int
    private let answered = Mutex<[String: Int64]>([:])
    private let start: Int64

    init(ledger: SQLiteLedger, seconds: Int) async throws {
        self.ledger = ledger
        self.seconds = seconds
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        engine = try await ledger.makeEngine(clock: ContinuousClock(), originEpochMillis: now)
        start = engine.nowMillis()
    }

    private struct Step {
        let at: Int64
        let label: String
        let action: @Sendable (MeteringEngine<ContinuousClock>) async throws -> String
    }

    /// Runs the scenario; returns whether `verify` found the ledger clean.
    func run() async throws -> Bool {
        let writer = Task { await ledger.run() }
        let ticking = Task { try await engine.run() }
        let recovered = try await engine.settleUnclaimed()
        if !recovered.isEmpty { print("settled \(recovered.count) call(s) left open by an earlier run") }
        try await setUp()
        let listener = Task { await listen() }
        var steps = script()
        print("Tollgate simulation: \(seconds) s of calls on the real clock, billed per second.\n")
        var nextTable: Int64 = 1_000
        let end = Int64(seconds) * 1000
        while elapsed() <= end {
            while let step = steps.first, step.at <= elapsed() {
                steps.removeFirst()
                let outcome = (try? await step.action(engine)) ?? "refused"
                print("[\(clock())] \(step.label): \(outcome)")
            }
            if elapsed() >= nextTable {
                await printTable()
                nextTable += seconds > 30 ? 5_000 : 2_000
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        for call in await engine.liveCalls() {
            _ = try? await engine.ended(callID: call.callID, billableMillis: billable(call.callID), cause: "NORMAL_CLEARING")
        }
        ticking.cancel()
        _ = try? await ticking.value
        await listener.value
        try await ledger.close()
        await writer.value
        return try await summary()
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
        func call(_ id: String, _ ext: String, _ number: String) -> @Sendable (MeteringEngine<ContinuousClock>) async throws -> String {
            { engine in
                let decision = try await engine.authorize(callID: id, extensionNumber: ext, dialled: number)
                guard case .allowed(let rate, let unbilled, let grant) = decision else {
                    if case .denied(let reason) = decision { return "DENIED \(reason.rawValue)" }
                    return "?"
                }
                // The PBX stamps the answer before telling the engine; the engine caps what it bills by its own view.
                self.answered.withLock { $0[id] = engine.nowMillis() }
                try await engine.answered(callID: id)
                if let unbilled { return "allowed, unbilled (\(unbilled.rawValue)), answered" }
                let grantText = grant.map { " grant \(Double($0) / 1000) s" } ?? ""
                return "allowed on rate \(rate?.id ?? 0) (\(rate?.remarks ?? "")),\(grantText), answered"
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
            Step(at: half, label: "front desk recharges 8102 by 1.00", action: { engine in
                let record = try await engine.recharge(number: "8102", amount: Money(micros: 1_000_000),
                                                       operatorName: "front desk", note: "cash")
                return "balance \(record.balanceBefore.formatted()) -> \(record.balanceAfter.formatted())"
            }),
            Step(at: half + 2_000, label: "8201 Office hangs up", action: { engine in
                guard case .settled(let record, _) = try await engine.ended(
                    callID: "office", billableMillis: self.billable("office"), cause: "NORMAL_CLEARING")
                else { return "already settled" }
                return "settled \(Double(record.billableMillis) / 1000) s, cost \(record.cost.formatted())"
            }),
        ]
    }

    private func billable(_ id: String) -> Int64 {
        max(0, engine.nowMillis() - (answered.withLock { $0[id] } ?? engine.nowMillis()))
    }

    /// The PBX side of the events: hang up on a cutoff, report warnings.
    private func listen() async {
        for await event in engine.events {
            switch event {
            case .cutoff(let id, let ext, let boundary, let reason):
                let answeredAt = answered.withLock { $0[id] } ?? boundary
                print("[\(clock())] CUTOFF \(id) (\(ext)) \(reason.rawValue): paid up to \(offset(boundary)), "
                    + "pushed \(engine.nowMillis() - boundary) ms after the boundary")
                Task {
                    _ = try? await engine.ended(callID: id, billableMillis: boundary - answeredAt, cause: "CUTOFF")
                }
            case .warning(let id, _, let cutoffAt, let left):
                print("[\(clock())] WARNING \(id): cut in \(left) s (at \(offset(cutoffAt))) unless money arrives")
            case .grantRenewed, .settled:
                break
            }
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
        print("\nCall log\n\(log.render())")
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
