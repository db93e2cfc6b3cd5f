import ArgumentParser
import Foundation
import Ledger
import Logging

/// `tollgate demo`: the engine and PBX server in process, and a simulated PBX calling over the real socket.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the engine with a simulated PBX over the real socket: metered calls, warnings, cutoffs at the exact boundary, denials, a recharge mid-call.")

    @Option(name: .customLong("data-dir"), help: "Keep the ledger here (default: a new temporary directory).")
    var dataDirectory: String?

    @Option(help: "How long the simulated calls run, in seconds (10-120).")
    var seconds: Int = 30

    func validate() throws {
        guard (10...120).contains(seconds) else { throw ValidationError("--seconds must be 10 to 120") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let directory = dataDirectory ?? (NSTemporaryDirectory() + "tollgate-demo-\(UUID().uuidString)")
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: directory))
        let demo = try await Demo(ledger: ledger, seconds: seconds)
        let clean = try await demo.run()
        print("\nledger: \(SQLiteLedger.path(dataDirectory: directory))")
        if !clean { throw ExitCode(1) }
    }
}
