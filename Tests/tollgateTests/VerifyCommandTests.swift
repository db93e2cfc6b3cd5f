import ArgumentParser
import BillingCore
import GRDB
import Ledger
import Metering
import TestSupport
import Testing
@testable import tollgate

@Suite("tollgate verify")
struct VerifyCommandTests {
    @Test("exits 0 on a clean ledger, 1 on a tampered one, and refuses a missing one")
    func exitCodes() async throws {
        let directory = try TemporaryDirectory("verify-cli")
        defer { directory.remove() }
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: directory.path))
        let writer = Task { await ledger.run() }
        let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: 1_700_000_000_000, journal: ledger,
            restoring: try await ledger.load())
        try await engine.setUpBilled("8001", balance: Money(micros: 2_500_000))
        try await ledger.close()
        await writer.value

        try await VerifyCommand.parse(["--data-dir", directory.path]).run()

        try await ledger.pool.write { db in
            try db.execute(sql: "UPDATE extensions SET balance = balance + 1 WHERE number = '8001'")
        }
        await #expect(throws: ExitCode(1)) {
            try await VerifyCommand.parse(["--data-dir", directory.path]).run()
        }
        await #expect(throws: ValidationError.self) {
            try await VerifyCommand.parse(["--data-dir", directory.file("nowhere")]).run()
        }
    }
}
