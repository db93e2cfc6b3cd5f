import ArgumentParser
import Foundation

/// `--data-dir`, falling back to `TOLLGATE_DATA_DIR`, then to `./tollgate-data`.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where the SQLite ledger lives (env TOLLGATE_DATA_DIR; default ./tollgate-data).")
    var dataDirectory: String?

    var resolved: String {
        dataDirectory ?? ProcessInfo.processInfo.environment["TOLLGATE_DATA_DIR"] ?? "./tollgate-data"
    }
}
