import ArgumentParser
import Foundation
import Ledger

/// `tollgate verify`: recomputes every balance from the ledger; exits 1 when anything differs.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Recompute every balance from the ledger and report differences.")

    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        let path = SQLiteLedger.path(dataDirectory: data.resolved)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no ledger at \(path)")
        }
        let ledger = try SQLiteLedger(path: path)
        let problems = try await ledger.verify()
        if problems.isEmpty {
            print("ledger OK: every balance equals its ledger (\(path))")
            return
        }
        for problem in problems { print("DIFFERENCE \(problem)") }
        print("\(problems.count) difference(s) found")
        throw ExitCode(1)
    }
}
