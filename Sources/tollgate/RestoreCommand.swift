import ArgumentParser
import Foundation
import Ledger

/// `tollgate restore FILE`: puts a backup back as the ledger, while no `serve` runs on the directory.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup back as the ledger (refused while serve runs on the data directory).",
        discussion: """
            The backup is verified first; nothing changes if it does not verify. The ledger it replaces is kept \
            beside it as tollgate.sqlite.replaced-TIME, and the call log's index is rebuilt at the next start. \
            What was committed after the backup is lost, except the live calls PBXs claim again in their resync.
            """)

    /// A restore refused before anything changed: one line after "Error:", exit status 1, no usage text.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    @OptionGroup var data: DataDirectoryOption

    @Argument(help: "A file written by tollgate backup.")
    var backup: String

    func run() async throws {
        guard FileManager.default.fileExists(atPath: backup) else { throw Refused(description: "no such file: \(backup)") }
        let directory = data.resolved
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock(dataDirectory: directory)
        } catch let held as DataDirectoryLock.Held {
            throw Refused(description: "\(held.description): stop serve before a restore")
        }
        let problems: [LedgerDiscrepancy]
        do {
            problems = try await BackupCommand.verify(backup)
        } catch {
            throw Refused(description: "\(backup) is not a readable ledger: \(error)")
        }
        guard problems.isEmpty else {
            for problem in problems { print("DIFFERENCE \(problem)") }
            throw Refused(description: "\(backup) does not verify (\(problems.count) difference(s)); the ledger is unchanged")
        }
        let replaced = try Self.replaceLedger(in: directory, with: backup)
        withExtendedLifetime(lock) {}
        print("restore OK: \(SQLiteLedger.path(dataDirectory: directory)) is now \(backup)"
            + (replaced.map { "; the ledger it replaced is kept as \($0)" } ?? ""))
    }

    /// Copies the backup beside the ledger, then renames it into place. A failure at any step puts back what was
    /// moved, so the directory holds the old ledger whole, never none. Returns where the replaced ledger was kept,
    /// if there was one. `move` is the rename (injected by tests to fail).
    static func replaceLedger(in directory: String, with backup: String,
                              move: (String, String) throws -> Void = { try FileManager.default.moveItem(atPath: $0, toPath: $1) })
        throws -> String?
    {
        let files = FileManager.default
        let ledger = SQLiteLedger.path(dataDirectory: directory)
        let incoming = ledger + ".restoring"
        try? files.removeItem(atPath: incoming)
        try files.copyItem(atPath: backup, toPath: incoming)
        try fsync(path: incoming)
        var moved: [(from: String, to: String)] = []
        func step(_ from: String, _ to: String) throws {
            try move(from, to)
            moved.append((from, to))
        }
        var kept: String?
        do {
            if files.fileExists(atPath: ledger) {
                let stamp = ISO8601DateFormatter.string(
                    from: Date(), timeZone: .gmt, formatOptions: [.withFullDate, .withTime, .withTimeZone])
                    .replacingOccurrences(of: ":", with: "")
                let keep = ledger + ".replaced-" + stamp
                try step(ledger, keep)
                kept = keep
                // The write-ahead log belongs to the replaced ledger; left here it would be replayed into the backup.
                for suffix in ["-wal", "-shm"] where files.fileExists(atPath: ledger + suffix) {
                    try step(ledger + suffix, keep + suffix)
                }
            }
            try step(incoming, ledger)
        } catch {
            for (from, to) in moved.reversed() { try? move(to, from) }
            try? files.removeItem(atPath: incoming)
            throw error
        }
        // The call index is derived from the ledger and rebuilt when missing; it may be ahead of the backup.
        let index = String(ledger.dropLast(".sqlite".count)) + "-call-index.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? files.removeItem(atPath: index + suffix) }
        try fsync(path: directory)
        return kept
    }

    private static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
