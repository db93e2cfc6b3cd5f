import ArgumentParser
import Foundation
import Ledger
import Logging

/// `tollgate simulate`: an in-process PBX places a few calls against the real engine, clock and SQLite ledger.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a short in-process simulation: metered calls, a warning, cutoffs at the exact boundary, denials.")

    @Option(name: .customLong("data-dir"), help: "Keep the ledger here (default: a new temporary directory).")
    var dataDirectory: String?

    @Option(help: "How long the simulated calls run, in seconds (10-120).")
    var seconds: Int = 20

    func validate() throws {
        guard (10...120).contains(seconds) else { throw ValidationError("--seconds must be 10 to 120") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let directory = dataDirectory ?? (NSTemporaryDirectory() + "tollgate-simulate-\(UUID().uuidString)")
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: directory))
        let simulation = try await Simulation(ledger: ledger, seconds: seconds)
        let clean = try await simulation.run()
        print("\nledger: \(SQLiteLedger.path(dataDirectory: directory))")
        if !clean { throw ExitCode(1) }
    }
}
