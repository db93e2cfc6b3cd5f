import ArgumentParser
import Foundation

/// `tollgate recharge`: recharge one or many extensions, or search the history.
struct RechargeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recharge", abstract: "Recharge extensions, or search the recharge history.",
        subcommands: [Add.self, History.self], defaultSubcommand: Add.self)

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Recharge one or many extensions by the same amount.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Extension numbers.") var numbers: [String]
        @Option(help: "Amount, a decimal such as 10.50.") var amount: String
        @Option var note: String?
        @Option(name: .customLong("key"), help: "Idempotency key: retrying with the same key recharges once.")
        var key: String?
        struct Body: Encodable { var numbers: [String]; var amount: String; var note: String? }
        func run() async throws {
            try await runAdmin {
                let reply = try await options.call("POST", APIPath.make(["recharges"]),
                                                   body: Body(numbers: numbers, amount: amount, note: note),
                                                   headers: key.map { [("Idempotency-Key", $0)] } ?? [])
                if let items = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]],
                    items.contains(where: { ($0["ok"] as? Bool) == false })
                {
                    throw CLIFailure(exitCode: CLIFailure.refused, message: "some recharges failed (see above)")
                }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search recharges; --format csv|xlsx --output FILE downloads.")
        @OptionGroup var options: APIOptions
        @OptionGroup var search: HistorySearch
        @Option(help: "json (default), csv or xlsx.") var format: String?
        @Option(help: "Write the download to this file.") var output: String?
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("GET", APIPath.make(["recharges"], query: search.query + [("format", format)]),
                                           output: output)
            }
        }
    }
}

/// The search options of the call log and the recharge history.
struct HistorySearch: ParsableArguments {
    @Option(help: "From (inclusive): ISO 8601 date or time, or ms since the epoch.") var from: String?
    @Option(help: "To (exclusive).") var to: String?
    @Option(help: "Part of an extension number or user name.") var keyword: String?
    @Option(name: .customLong("extension"), help: "Exactly this extension.") var extensionNumber: String?
    @Option var limit = 100
    @Option var offset = 0

    var query: [(String, String?)] {
        [("from", from), ("to", to), ("keyword", keyword), ("extension", extensionNumber), ("limit", String(limit)),
         ("offset", String(offset))]
    }
}

/// `tollgate calls`: the call log.
struct CallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls", abstract: "The call log: list, or export as CSV or XLSX.",
        subcommands: [List.self, Export.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @OptionGroup var search: HistorySearch
        func run() async throws {
            try await runAdmin { _ = try await options.call("GET", APIPath.make(["calls"], query: search.query)) }
        }
    }

    struct Export: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @OptionGroup var search: HistorySearch
        @Option(help: "csv or xlsx.") var format = "csv"
        @Option(help: "The file to write.") var output: String
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("GET", APIPath.make(["calls", "export"], query: search.query + [("format", format)]),
                                           output: output)
            }
        }
    }
}

/// `tollgate stats`: totals and a series by day, month or year.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Call statistics for a day, month or year.")
    @OptionGroup var options: APIOptions
    @Option(help: "day, month or year.") var period = "day"
    @Option(help: "YYYY-MM-DD, YYYY-MM or YYYY (default: now).") var at: String?
    @Option(name: .customLong("extension")) var extensionNumber: String?
    func run() async throws {
        try await runAdmin {
            _ = try await options.call("GET", APIPath.make(["stats"], query: [
                ("period", period), ("at", at), ("extension", extensionNumber),
            ]))
        }
    }
}
