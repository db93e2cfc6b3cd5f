import ArgumentParser

/// Measurements that need a real clock or a real disk over time, printed as `key: value` lines.
@main
struct TollgateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate-bench",
        abstract: "Tollgate engine measurements on this machine.",
        subcommands: [LiveCallsBench.self, LedgerBench.self])
}
