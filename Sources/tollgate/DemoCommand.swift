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

    @Flag(help: "After the demo, keep the server and the web console running on its data until Ctrl-C.")
    var keep = false

    @Option(name: .customLong("http-listen"), help: "HOST:PORT for the web console and the API (default 127.0.0.1:8080; port 0 picks a free one).")
    var httpListen = "127.0.0.1:8080"

    func validate() throws {
        guard (10...120).contains(seconds) else { throw ValidationError("--seconds must be 10 to 120") }
        guard Self.hostPort(httpListen) != nil else { throw ValidationError("--http-listen must be HOST:PORT") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let directory = dataDirectory ?? (NSTemporaryDirectory() + "tollgate-demo-\(UUID().uuidString)")
        let ledger = try SQLiteLedger(path: SQLiteLedger.path(dataDirectory: directory))
        let (host, port) = Self.hostPort(httpListen)!
        let demo = try await Demo(ledger: ledger, directory: directory, seconds: seconds, keep: keep, httpHost: host,
                                  httpPort: port)
        let clean = try await demo.run()
        print("\nledger: \(SQLiteLedger.path(dataDirectory: directory))")
        if !clean { throw ExitCode(1) }
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port), colon != text.startIndex
        else { return nil }
        return (String(text[..<colon]), port)
    }
}
