import AdminClient
import BillingCore
import Foundation
import Metering
import TestSupport
import Testing

@Suite("API: extensions, recharges, rates, calls, statistics, settings, live calls", .timeLimit(.minutes(2)))
struct BillingEndpointsTests {
    @Test("extensions: add, filter, page, edit, bulk edit with a result per extension; bad input changes nothing")
    func extensions() async throws {
        let h = try await APIHarness()
        let c = h.client(try await h.billingUser().token)
        for number in ["8001", "8002", "8003"] {
            #expect(try await c.send("POST", "/api/v1/extensions", body: json(["number": number, "userName": "Room \(number)"])).status == 201)
        }
        let edited = try object(try await c.send("PATCH", "/api/v1/extensions/8001",
                                                 body: json(["billingEnabled": true, "credit": "2.50", "status": "locked"])))
        #expect(edited["credit"] as? String == "2.50")
        #expect(edited["status"] as? String == "locked")
        let locked = try object(try await c.send("GET", "/api/v1/extensions?status=locked"))
        #expect(locked["total"] as? Int == 1)
        let page = try object(try await c.send("GET", "/api/v1/extensions?limit=2&offset=2"))
        #expect((page["items"] as? [Any])?.count == 1)
        #expect(page["total"] as? Int == 3)
        // Bad input: a float for money, negative credit, an unknown status, an unknown extension.
        for (body, status) in [(json(["credit": 2.5]), 400), (json(["credit": "-1"]), 400), (json(["status": "weird"]), 400)] {
            let reply = try await c.send("PATCH", "/api/v1/extensions/8002", body: body)
            #expect(reply.status == status, "\(reply.text)")
            #expect(try object(reply)["code"] as? String == "INVALID_ARGUMENT")
        }
        #expect(try await c.send("PATCH", "/api/v1/extensions/9999", body: json(["credit": "1"])).status == 404)
        // An explicit null is refused, naming the field, not read as "left out" (which would change nothing).
        for (path, body, field) in [
            ("/api/v1/extensions/8002", #"{"billingEnabled": null, "credit": "1"}"#, "billingEnabled"),
            ("/api/v1/extensions/bulk", #"{"numbers": ["8002"], "changes": {"credit": null}}"#, "changes.credit"),
            ("/api/v1/extensions/bulk", #"{"numbers": ["8002", null], "changes": {"credit": "1"}}"#, "numbers[1]"),
        ] {
            let reply = try await c.send(path.hasSuffix("bulk") ? "POST" : "PATCH", path, body: Array(body.utf8))
            #expect(reply.status == 400, "\(reply.text)")
            #expect(try object(reply)["field"] as? String == field)
        }
        // A query integer given empty is refused too, not taken as its default.
        for query in ["offset=", "billingEnabled=", "status="] {
            #expect(try await c.send("GET", "/api/v1/extensions?\(query)").status == 400, "\(query)")
        }
        #expect(try await c.send("POST", "/api/v1/extensions", body: Array("{not json".utf8)).status == 400)
        let untouched = try #require(await h.engine.extensionAccount(number: "8002"))
        #expect(untouched.credit == .zero && untouched.status == .unlocked)
        let bulk = try list(try await c.send("POST", "/api/v1/extensions/bulk", body: json([
            "numbers": ["8002", "9999", "8003"], "changes": ["billingEnabled": true, "paymentType": "postpaid"],
        ])))
        #expect(bulk.map { $0["ok"] as? Bool } == [true, false, true])
        #expect(bulk[1]["code"] as? String == "NOT_FOUND")
        #expect(await h.engine.extensionAccount(number: "8003")?.paymentType == .postpaid)
        try await h.stop()
    }

    @Test("recharges: an Idempotency-Key recharges once; out-of-range amounts change nothing; history is searchable")
    func recharges() async throws {
        let h = try await APIHarness()
        let c = h.client(try await h.billingUser().token)
        _ = try await c.send("POST", "/api/v1/extensions", body: json(["number": "8001", "userName": "Alice"]))
        _ = try await c.send("POST", "/api/v1/extensions", body: json(["number": "8002", "userName": "Bob"]))
        let body = json(["numbers": ["8001", "8002"], "amount": "10.25", "note": "front desk"])
        for attempt in 0..<2 {
            let results = try list(try await c.send("POST", "/api/v1/recharges", body: body, headers: [("Idempotency-Key", "r-1")]))
            #expect(results.allSatisfy { $0["ok"] as? Bool == true })
            // The retry says it changed nothing; the first attempt carries no `replayed` at all.
            #expect(results.map { $0["replayed"] as? Bool } == (attempt == 0 ? [nil, nil] : [true, true]))
        }
        #expect(await h.engine.extensionAccount(number: "8001")?.balance == Money(micros: 10_250_000))
        #expect(await h.engine.extensionAccount(number: "8002")?.totalRecharges == Money(micros: 10_250_000))
        // A bulk recharge cut short after its first extension (as by a restart), retried whole: each once.
        let partial = json(["numbers": ["8001"], "amount": "1.00"])
        _ = try await c.send("POST", "/api/v1/recharges", body: partial, headers: [("Idempotency-Key", "r-2")])
        let whole = json(["numbers": ["8001", "8002"], "amount": "1.00"])
        let retried = try list(try await c.send("POST", "/api/v1/recharges", body: whole, headers: [("Idempotency-Key", "r-2")]))
        #expect(retried.map { $0["replayed"] as? Bool } == [true, nil])
        #expect(await h.engine.extensionAccount(number: "8001")?.balance == Money(micros: 11_250_000))
        #expect(await h.engine.extensionAccount(number: "8002")?.balance == Money(micros: 11_250_000))
        for amount in ["0", "-5", "100000.01", "1.0000001"] {
            let reply = try await c.send("POST", "/api/v1/recharges", body: json(["numbers": ["8001"], "amount": amount]))
            #expect(reply.status == 400, "\(amount): \(reply.text)")
        }
        #expect(await h.engine.extensionAccount(number: "8001")?.balance == Money(micros: 11_250_000))
        let history = try object(try await c.send("GET", "/api/v1/recharges?keyword=ali"))
        #expect(history["total"] as? Int == 2)
        let csv = try await c.send("GET", "/api/v1/recharges?format=csv")
        #expect(csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 5)
        try await h.stop()
    }

    @Test("a recharge made through the API during a live call is seen by that call's next charge")
    func rechargeDuringLiveCall() async throws {
        let h = try await APIHarness()
        let c = h.client(try await h.billingUser().token)
        _ = try await c.send("POST", "/api/v1/extensions", body: json(["number": "8001"]))
        _ = try await c.send("PATCH", "/api/v1/extensions/8001", body: json(["billingEnabled": true]))
        _ = try await c.send("POST", "/api/v1/recharges", body: json(["numbers": ["8001"], "amount": "0.05"]))
        #expect(try await c.send("POST", "/api/v1/rates", body: json([
            "prefix": "0", "rate": "0.02", "unit": 1, "extensions": ["8001"],
        ])).status == 201)
        let decision = try await h.engine.authorize(callID: "c1", extensionNumber: "8001", dialled: "0123")
        #expect(decision.isAllowed)
        try await h.engine.answered(callID: "c1")
        // 0.05 pays for the charges at 0 s, 1 s (0.04); the one at 2 s would be refused: the cutoff is at 2 s.
        await h.advance(ms: 1_500)
        _ = try await c.send("POST", "/api/v1/recharges", body: json(["numbers": ["8001"], "amount": "1.00"]))
        await h.advance(ms: 1_000)
        let live = try list(try await c.send("GET", "/api/v1/live-calls"))
        #expect(live.first?["phase"] as? String == "answered")
        #expect(live.first?["runningCost"] as? String == "0.06")
        #expect(await h.engine.extensionAccount(number: "8001")?.balance == Money(micros: 990_000))
        // The operator hangs it up from the API.
        #expect(try await c.send("POST", "/api/v1/live-calls/c1/hangup").status == 202)
        #expect(h.hangups.calls.withLock { $0 } == ["c1"])
        // Its log line names the call and its extension as metadata, and who hung it up.
        let line = try #require(h.log.entries(containing: "operator hang-up").first)
        #expect(line.metadata["call_id"] == "c1" && line.metadata["extension"] == "8001")
        #expect(line.metadata["user"] != nil)
        #expect(try await c.send("POST", "/api/v1/live-calls/nope/hangup").status == 404)
        try await h.stop()
    }

    @Test("rates: CRUD, activation, assignment, quote, CSV export and an all-or-nothing import naming bad lines")
    func rates() async throws {
        let h = try await APIHarness()
        let c = h.client(try await h.billingUser().token)
        let created = try object(try await c.send("POST", "/api/v1/rates", body: json([
            "prefix": "00", "rate": "0.10", "unit": 60, "initialCost": "0.05", "initialTime": 30,
            "startTime": "08:00", "endTime": "20:00", "extensions": ["8001"], "remarks": "international day",
        ])))
        let id = try #require(created["id"] as? Int)
        #expect(try await c.send("POST", "/api/v1/rates", body: json(["prefix": "0x", "rate": "1", "unit": 1])).status == 400)
        #expect(try await c.send("POST", "/api/v1/rates", body: json(["prefix": "0", "rate": "1", "unit": 0])).status == 400)
        #expect(try object(try await c.send("POST", "/api/v1/rates/\(id)/deactivate"))["active"] as? Bool == false)
        #expect(try object(try await c.send("POST", "/api/v1/rates/\(id)/activate"))["active"] as? Bool == true)
        let assigned = try object(try await c.send("PUT", "/api/v1/rates/\(id)/extensions", body: json(["extensions": ["8001", "8002"]])))
        #expect(assigned["extensions"] as? [String] == ["8001", "8002"])
        // 10:00 UTC (the default zone), 95 s: 0.05 for the first 30 s, then ceil(65/60) = 2 minutes at 0.10.
        let quote = try object(try await c.send("GET", "/api/v1/rates/quote?extension=8002&number=0044123&start=2023-11-14T10:00:00Z&duration=95"))
        #expect(quote["cost"] as? String == "0.25")
        let night = try object(try await c.send("GET", "/api/v1/rates/quote?extension=8002&number=0044123&start=2023-11-14T22:00:00Z&duration=95"))
        #expect(night["billed"] as? Bool == false)

        let exported = try await c.send("GET", "/api/v1/rates/export").text
        #expect(exported.hasPrefix("id,active,remarks,prefix,number_length"))
        let bad = exported + ",true,,12a,0,0,0,0.01,1,,,8001\r\n,maybe,,1,0,0,0,0.01,1,,,\r\n"
        let refused = try await c.send("POST", "/api/v1/rates/import", body: Array(bad.utf8), contentType: "text/csv")
        #expect(refused.status == 400)
        let errors = try #require(try object(refused)["errors"] as? [[String: Any]])
        #expect(errors.compactMap { $0["line"] as? Int } == [3, 4])
        #expect(h.engine.rates.rates.count == 1)
        let good = exported + ",true,mobile,13,11,0,0,0.05,6,,,8001 8003\r\n"
        let imported = try object(try await c.send("POST", "/api/v1/rates/import", body: Array(good.utf8), contentType: "text/csv"))
        #expect(imported["imported"] as? Int == 2)
        #expect(h.engine.rates.rates.count == 2)
        #expect(try await c.send("DELETE", "/api/v1/rates/\(id)").status == 204)
        #expect(try await c.send("GET", "/api/v1/rates/\(id)").status == 404)
        try await h.stop()
    }

    @Test("call log, CSV and XLSX downloads, statistics by day; settings validated before anything is saved")
    func callsStatsSettings() async throws {
        let h = try await APIHarness()
        let c = h.client(try await h.billingUser().token)
        try await h.engine.setUpBilled("8001", balance: Money(micros: 10_000_000))
        _ = try await c.send("POST", "/api/v1/rates", body: json(["prefix": "0", "rate": "0.02", "unit": 1, "extensions": ["8001"]]))
        for index in 0..<3 {
            _ = try await h.engine.authorize(callID: "call-\(index)", extensionNumber: "8001", dialled: "0123")
            try await h.engine.answered(callID: "call-\(index)")
            await h.advance(ms: 10_000)
            _ = try await h.engine.ended(callID: "call-\(index)", billableMillis: 10_000, cause: "NORMAL_CLEARING")
        }
        _ = try await h.engine.authorize(callID: "denied", extensionNumber: "8001", dialled: "5555")
        try await h.ledger.flush()
        let calls = try object(try await c.send("GET", "/api/v1/calls?keyword=800&limit=2"))
        #expect(calls["total"] as? Int == 4)
        #expect((calls["items"] as? [Any])?.count == 2)
        let csv = try await c.send("GET", "/api/v1/calls/export?format=csv")
        #expect(csv.header("content-type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 5)
        let xlsx = try await c.send("GET", "/api/v1/calls/export?format=xlsx")
        #expect(Array(xlsx.body.prefix(2)) == [0x50, 0x4B])
        let file = h.directory.file("calls.xlsx")
        try Data(xlsx.body).write(to: URL(fileURLWithPath: file))
        let pythonSays = try Python.run("import openpyxl,sys; from decimal import Decimal; ws=openpyxl.load_workbook(sys.argv[1]).active; rows=list(ws.values); "
                               + "assert len(rows)==5, rows; assert rows[0][0]=='Time'; "
                               + "print(sum(Decimal(str(r[8])) for r in rows[1:] if r[9]=='completed'))", file)
        #expect(pythonSays == "0.6", "\(pythonSays)")
        // LibreOffice, what a billing manager opens it with, reads the same workbook.
        let rows = try LibreOffice.csvRows(of: file, in: h.directory.file("lo"))
        #expect(rows.first?.first == "Time" && rows.count == 5, "\(rows)")
        let completed = rows.dropFirst().filter { $0.count > 9 && $0[9] == "completed" }
        let total = completed.compactMap { Decimal(string: $0[8]) }.reduce(Decimal(0), +)
        #expect(completed.count == 3 && total == Decimal(string: "0.6"), "\(rows)")

        let day = try object(try await c.send("GET", "/api/v1/stats?period=day&at=2023-11-14"))
        #expect(day["calls"] as? Int == 3)
        #expect(day["totalBillableSeconds"] as? Int == 30)
        #expect(day["averageSeconds"] as? Int == 10)
        #expect(day["totalCost"] as? String == "0.60")
        #expect((day["series"] as? [Any])?.count == 24)
        #expect(try object(try await c.send("GET", "/api/v1/stats?period=year&at=2023"))["calls"] as? Int == 3)
        #expect(try await c.send("GET", "/api/v1/stats?period=week").status == 400)

        let bad = try await c.send("PUT", "/api/v1/settings", body: json(["currency": "EUR", "timeZone": "Mars/Base"]))
        #expect(bad.status == 400)
        #expect(try object(try await c.send("GET", "/api/v1/settings"))["currency"] as? String == "USD")
        let saved = try object(try await c.send("PUT", "/api/v1/settings", body: json([
            "currency": "EUR", "timeZone": "Europe/Paris", "warningLeadSeconds": 45, "freeNumbers": ["112", "15"],
        ])))
        #expect(saved["currency"] as? String == "EUR")
        #expect(h.engine.timeZone.identifier == "Europe/Paris")
        #expect(h.engine.policy.warningLeadMillis == 45_000)
        try await h.stop()
    }

    @Test("health, Prometheus metrics, and JSON errors for unknown routes")
    func operations() async throws {
        let h = try await APIHarness()
        #expect(try object(try await h.client().send("GET", "/healthz"))["status"] as? String == "ok")
        let metrics = try await h.client().send("GET", "/metrics").text
        #expect(metrics.contains("tollgate_live_calls 0"))
        for name in ["live_calls", "extensions", "pbx_connections", "ledger_write_failed", "licensed"] {
            #expect(metrics.contains("# TYPE tollgate_\(name) gauge"), "\(name)")
        }
        for name in ["cutoffs_total", "authorizations_total", "tick_wakes_total", "ledger_batches_total"] {
            #expect(metrics.contains("# TYPE tollgate_\(name) counter"), "\(name)")
        }
        for name in ["authorize_duration_seconds", "cutoff_lateness_seconds", "tick_lateness_seconds",
                     "ledger_commit_duration_seconds"] {
            #expect(metrics.contains("# TYPE tollgate_\(name) histogram"), "\(name)")
            #expect(metrics.contains("tollgate_\(name)_bucket{le=\"+Inf\"}"), "\(name)")
        }
        #expect(!metrics.contains("_p99_seconds gauge") || metrics.contains("window_p99"), "no percentile since start")
        #expect(metrics.contains("tollgate_build_info{version=\""))
        #expect(metrics.contains("# TYPE process_cpu_seconds_total counter"))
        #expect(metrics.contains("tollgate_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"))
        let missing = try await h.client().send("GET", "/api/v1/nothing-here")
        #expect(missing.status == 404)
        #expect(try object(missing)["code"] as? String == "NOT_FOUND")
        try await h.stop()
    }
}

/// Converts a workbook to CSV with headless LibreOffice (installed by `scripts/install-system-packages.sh`).
enum LibreOffice {
    static func csvRows(of file: String, in directory: String) throws -> [[String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A private profile: parallel tests must not share LibreOffice's lock on the user's one.
        process.arguments = ["soffice", "-env:UserInstallation=file://\(directory)/profile", "--headless",
                             "--convert-to", "csv", "--outdir", directory, file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent + ".csv"
        let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        // The export has no quoted commas (numbers, names without commas in this test).
        return text.split(whereSeparator: \.isNewline).map { $0.components(separatedBy: ",") }
    }
}

/// Runs a Python snippet with one argument; returns its trimmed output (openpyxl reads our XLSX).
enum Python {
    static func run(_ code: String, _ argument: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", code, argument]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
