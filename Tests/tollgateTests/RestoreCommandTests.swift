import ArgumentParser
import BillingCore
import Foundation
import Ledger
import Metering
import TestSupport
import Testing
@testable import tollgate

@Suite("tollgate restore, backup --into --keep, and the data directory's lock")
struct RestoreCommandTests {
    @Test("a restore puts the backup's balances back, keeps the ledger it replaced, and rebuilds the call index")
    func restoreRoundTrip() async throws {
        let directory = try TemporaryDirectory("restore")
        defer { directory.remove() }
        let backups = directory.file("backups")
        let data = directory.file("data")
        do {
            let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: data))
            let writer = Task { await ledger.run() }
            let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: 1_700_000_000_000, journal: ledger,
                restoring: try await ledger.load())
            try await engine.setUpBilled("8001", balance: Money(micros: 2_500_000))
            try await BackupCommand.parse(["--data-dir", data, "--into", backups, "--keep", "3"]).run()
            _ = try await engine.recharge(number: "8001", amount: Money(micros: 500_000), operatorName: "desk")
            try await ledger.close()
            await writer.value
        }
        let backup = try #require(try FileManager.default.contentsOfDirectory(atPath: backups).first)
        try await RestoreCommand.parse(["--data-dir", data, URL(fileURLWithPath: backups).appendingPathComponent(backup).path]).run()

        let names = try FileManager.default.contentsOfDirectory(atPath: data)
        #expect(names.contains { $0.hasPrefix("tollgate.sqlite.replaced-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") })
        #expect(!names.contains { $0.contains("call-index") })
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: data))
        let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: 1_700_000_100_000, journal: ledger,
            restoring: try await ledger.load())
        #expect(await engine.extensionAccount(number: "8001")?.balance == Money(micros: 2_500_000))
        #expect(try await ledger.verify() == [])
    }

    @Test("a restore is refused while another process holds the directory, and for a file that is not a ledger")
    func refusals() async throws {
        let directory = try TemporaryDirectory("restore-refused")
        defer { directory.remove() }
        let data = directory.file("data")
        let garbage = directory.file("garbage.sqlite")
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: garbage))
        await #expect(throws: RestoreCommand.Refused.self) {
            try await RestoreCommand.parse(["--data-dir", data, garbage]).run()
        }
        #expect(!FileManager.default.fileExists(atPath: SQLiteLedger.path(dataDirectory: data)))

        // As serve holds it. flock is per open file, so a second open in this process conflicts as another would.
        let held = try DataDirectoryLock(dataDirectory: data)
        let error = await #expect(throws: RestoreCommand.Refused.self) {
            try await RestoreCommand.parse(["--data-dir", data, garbage]).run()
        }
        #expect(error?.description.contains("pid \(getpid())") == true)
        #expect(throws: DataDirectoryLock.Held.self) { try DataDirectoryLock(dataDirectory: data) }
        withExtendedLifetime(held) {}
    }

    @Test("a rename failing midway puts the old ledger back whole: never a directory without a ledger")
    func failedReplaceRollsBack() throws {
        let directory = try TemporaryDirectory("restore-rollback")
        defer { directory.remove() }
        let ledger = SQLiteLedger.path(dataDirectory: directory.path)
        try Data("old ledger".utf8).write(to: URL(fileURLWithPath: ledger))
        try Data("old log".utf8).write(to: URL(fileURLWithPath: ledger + "-wal"))
        let backup = directory.file("backup.sqlite")
        try Data("backup".utf8).write(to: URL(fileURLWithPath: backup))
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try RestoreCommand.replaceLedger(in: directory.path, with: backup) { from, to in
                if from.hasSuffix(".restoring") { throw Refused() }
                try FileManager.default.moveItem(atPath: from, toPath: to)
            }
        }
        #expect(try String(contentsOfFile: ledger, encoding: .utf8) == "old ledger")
        #expect(try String(contentsOfFile: ledger + "-wal", encoding: .utf8) == "old log")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            == ["backup.sqlite", "tollgate.sqlite", "tollgate.sqlite-wal"])
    }

    @Test("the lock is released with its holder")
    func lockReleased() throws {
        let directory = try TemporaryDirectory("lock")
        defer { directory.remove() }
        do { _ = try DataDirectoryLock(dataDirectory: directory.path) }
        _ = try DataDirectoryLock(dataDirectory: directory.path)
    }

    @Test("--keep deletes only the oldest files of the backup timer's own naming")
    func rotation() throws {
        let directory = try TemporaryDirectory("rotation")
        defer { directory.remove() }
        let names = (1...5).map { BackupRotation.name(at: Date(timeIntervalSince1970: 1_800_000_000 + Double($0) * 86_400)) }
        for name in names + ["notes.txt", "tollgate-manual.sqlite", "tollgate-2026120XT000000Z.sqlite"] {
            _ = FileManager.default.createFile(atPath: directory.file(name), contents: Data())
        }
        #expect(names[0] == "tollgate-20270116T080000Z.sqlite")
        #expect(try BackupRotation.beyond(2, in: directory.path) == names.prefix(3).map { directory.file($0) })
        #expect(try BackupRotation.beyond(9, in: directory.path) == [])
        for (arguments, message) in [
            (["--into", directory.path, "--keep", "0"], "--keep must be 1 to 10000, got 0"),
            (["x.sqlite", "--keep", "2"], "--keep goes with --into"),
            ([], "name either a FILE or --into DIR"),
            (["x.sqlite", "--into", directory.path], "name either a FILE or --into DIR"),
        ] {
            let error = #expect(throws: (any Error).self) { try BackupCommand.parse(arguments) }
            #expect(error.map { BackupCommand.message(for: $0) } == message)
        }
    }
}
