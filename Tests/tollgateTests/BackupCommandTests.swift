import ArgumentParser
import BillingCore
import Foundation
import Ledger
import Metering
import TestSupport
import Testing
@testable import tollgate

@Suite("tollgate backup")
struct BackupCommandTests {
    @Test("copies a ledger in use, as of one instant, that restores to the same balances; never overwrites")
    func backupWhileServing() async throws {
        let directory = try TemporaryDirectory("backup-cli")
        defer { directory.remove() }
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: directory.path))
        let writer = Task { await ledger.run() }
        let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: 1_700_000_000_000, journal: ledger,
            restoring: try await ledger.load())
        try await engine.setUpBilled("8001", balance: Money(micros: 2_500_000))
        try await engine.setUpBilled("8002", balance: Money(micros: 1_000_000))

        // Taken while the ledger is open and its writer running, as under `serve`.
        let copy = directory.file("copy.sqlite")
        try await BackupCommand.parse(["--data-dir", directory.path, copy]).run()
        // A change after the backup is not in it.
        _ = try await engine.recharge(number: "8001", amount: Money(micros: 500_000), operatorName: "desk")
        try await ledger.close()
        await writer.value

        // Restored into a data directory of its own, it holds the balances of the instant it was taken.
        let restored = try TemporaryDirectory("backup-restored")
        defer { restored.remove() }
        try FileManager.default.copyItem(atPath: copy, toPath: SQLiteLedger.path(dataDirectory: restored.path))
        let restoredLedger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: restored.path))
        let restoredEngine = MeteringEngine(clock: ManualClock(), originEpochMillis: 1_700_000_100_000, journal: restoredLedger,
            restoring: try await restoredLedger.load())
        #expect(await restoredEngine.extensionAccount(number: "8001")?.balance == Money(micros: 2_500_000))
        #expect(await restoredEngine.extensionAccount(number: "8002")?.balance == Money(micros: 1_000_000))
        #expect(try await restoredLedger.verify() == [])
        try await VerifyCommand.parse(["--data-dir", restored.path]).run()

        await #expect(throws: ValidationError.self) {
            try await BackupCommand.parse(["--data-dir", directory.path, copy]).run()
        }
        await #expect(throws: ValidationError.self) {
            try await BackupCommand.parse(["--data-dir", directory.file("nowhere"), directory.file("x.sqlite")]).run()
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("x.sqlite")))
    }
}
