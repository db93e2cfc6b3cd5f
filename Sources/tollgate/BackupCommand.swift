import ArgumentParser
import Foundation
import GRDB
import Ledger

/// `tollgate backup FILE`: a copy of the ledger as of one instant, taken while `serve` runs, and verified.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the ledger to a new file, as of one instant, also while serve runs; then verify the copy.",
        discussion: """
            The copy holds every change committed up to the instant it starts; the server's writer goes on meanwhile. \
            To put it back: stop serve, then tollgate restore FILE. What was committed after the backup is lost with \
            a restore, except the live calls PBXs claim again in their resync. With --into DIR --keep N (as the \
            tollgate-backup timer runs it) each backup gets a dated name and the oldest beyond N are deleted.
            """)

    @OptionGroup var data: DataDirectoryOption

    @Argument(help: "The file to write; it must not exist yet. Or --into DIR.")
    var file: String?

    @Option(help: "Write DIR/tollgate-YYYYMMDDTHHMMSSZ.sqlite instead of a named file (the backup timer's way).")
    var into: String?

    @Option(help: "With --into: then delete the oldest backups in DIR beyond this many.")
    var keep: Int?

    func validate() throws {
        guard (file == nil) != (into == nil) else { throw ValidationError("name either a FILE or --into DIR") }
        if let keep {
            guard into != nil else { throw ValidationError("--keep goes with --into") }
            guard (1...10_000).contains(keep) else { throw ValidationError("--keep must be 1 to 10000, got \(keep)") }
        }
    }

    func run() async throws {
        let source = SQLiteLedger.path(dataDirectory: data.resolved)
        guard FileManager.default.fileExists(atPath: source) else { throw ValidationError("no ledger at \(source)") }
        var destination = file ?? ""
        if let into {
            try FileManager.default.createDirectory(atPath: into, withIntermediateDirectories: true)
            destination = URL(fileURLWithPath: into).appendingPathComponent(BackupRotation.name(at: Date())).path
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw ValidationError("\(destination) exists: a backup never overwrites a file")
        }
        do {
            try Self.copy(source, to: destination)
            let problems = try await Self.verify(destination)
            guard problems.isEmpty else {
                for problem in problems { print("DIFFERENCE \(problem)") }
                throw ValidationError("the copy does not verify: \(problems.count) difference(s); the ledger itself may not")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: destination)
            throw error
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        print("backup OK: \(destination) (\(size) bytes), every balance equals its ledger")
        if let into, let keep {
            for old in try BackupRotation.beyond(keep, in: into) {
                try FileManager.default.removeItem(atPath: old)
                print("removed old backup \(old)")
            }
        }
    }

    /// SQLite's online backup in one step, under one read transaction: every commit up to that instant, while
    /// the server's writer goes on in the write-ahead log.
    static func copy(_ source: String, to destination: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let reader = try DatabaseQueue(path: source, configuration: configuration)
        let copy = try DatabaseQueue(path: destination)
        try reader.backup(to: copy)
        try copy.close()
        try reader.close()
    }

    /// Verifies a copy as `tollgate verify` would, on a scratch copy of it: opening a ledger adds files beside it.
    static func verify(_ file: String) async throws -> [LedgerDiscrepancy] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-backup-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = SQLiteLedger.path(dataDirectory: scratch.path)
        try FileManager.default.copyItem(atPath: file, toPath: path)
        return try await SQLiteLedger(path: path).verify()
    }
}
