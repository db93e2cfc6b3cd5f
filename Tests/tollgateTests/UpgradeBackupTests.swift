import Foundation
import GRDB
@testable import Ledger
import Logging
import TestSupport
import Testing
@testable import tollgate

@Suite("an upgrade backs the ledger up before migrating it")
struct UpgradeBackupTests {
    @Test("a ledger of an older schema is copied as it was, then migrated; a current or new ledger is not copied")
    func backupBeforeMigration() async throws {
        let directory = try TemporaryDirectory("upgrade")
        defer { directory.remove() }
        let path = SQLiteLedger.path(dataDirectory: directory.path)
        let server = TollgateServer(settings: ServeSettings(dataDirectory: directory.path), logger: Logger(label: "test"))
        let backups = directory.file("backups")

        // No ledger yet: a new installation, nothing to keep.
        #expect(try SQLiteLedger.pendingMigrations(path: path) == [])
        try server.backUpBeforeMigrating()
        #expect(!FileManager.default.fileExists(atPath: backups))

        // The schema of an earlier release: every migration but the last.
        let all = LedgerSchema.migrator.migrations
        do {
            let old = try DatabaseQueue(path: path)
            try LedgerSchema.migrator.migrate(old, upTo: all[all.count - 2])
            try old.close()
        }
        #expect(try SQLiteLedger.pendingMigrations(path: path) == [all.last!])
        try server.backUpBeforeMigrating()
        let copies = try FileManager.default.contentsOfDirectory(atPath: backups)
        #expect(copies.count == 1 && copies[0].hasSuffix("-before-\(all.last!).sqlite"))
        #expect(!BackupRotation.isBackupName(copies[0]), "--keep must never delete the copy an upgrade took")
        // The copy is the ledger as it was; the ledger itself migrates when it opens.
        #expect(try SQLiteLedger.pendingMigrations(path: "\(backups)/\(copies[0])") == [all.last!])
        let ledger = try SQLiteLedger(path: path)
        try await ledger.close()
        #expect(try SQLiteLedger.pendingMigrations(path: path) == [])
        try server.backUpBeforeMigrating()
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).count == 1)
    }
}
