import ArgumentParser
import Foundation

/// `tollgate rate`: the rate table.
struct RateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate", abstract: "Rates: list, show, add, edit, delete, activate, deactivate, assign, import, export, quote.",
        subcommands: [List.self, Show.self, Add.self, Edit.self, Delete.self, Activate.self, Deactivate.self,
                      Assign.self, Import.self, Export.self, Quote.self])

    struct Fields: ParsableArguments {
        @Option(help: "Dialled-number prefix (digits).") var prefix: String
        @Option(help: "Money per billing unit, a decimal.") var rate: String
        @Option(help: "Billing unit in seconds.") var unit: Int
        @Option(name: .customLong("initial-cost")) var initialCost: String?
        @Option(name: .customLong("initial-time"), help: "Seconds covered by the initial cost.") var initialTime: Int?
        @Option(name: .customLong("number-length"), help: "Whole dialled length, 0 = any.") var numberLength: Int?
        @Option(help: "HH:MM start of the time block.") var start: String?
        @Option(help: "HH:MM end of the time block (start = end: all day).") var end: String?
        @Option var remarks: String?
        @Option(name: .customLong("extensions"), parsing: .upToNextOption, help: "Extensions it applies to.")
        var extensions: [String] = []
        @Flag(name: .customLong("inactive")) var inactive = false

        struct Body: Encodable {
            var active: Bool; var remarks: String?; var prefix: String; var numberLength: Int?; var initialCost: String?
            var initialTime: Int?; var rate: String; var unit: Int; var startTime: String?; var endTime: String?
            var extensions: [String]
        }

        var body: Body {
            Body(active: !inactive, remarks: remarks, prefix: prefix, numberLength: numberLength, initialCost: initialCost,
                 initialTime: initialTime, rate: rate, unit: unit, startTime: start, endTime: end, extensions: extensions)
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        func run() async throws { try await runAdmin { _ = try await options.call("GET", APIPath.make(["rates"])) } }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Argument var id: Int64
        func run() async throws { try await runAdmin { _ = try await options.call("GET", APIPath.make(["rates", String(id)])) } }
    }

    struct Add: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @OptionGroup var fields: Fields
        func run() async throws {
            try await runAdmin { _ = try await options.call("POST", APIPath.make(["rates"]), body: fields.body) }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a rate's terms (live calls keep theirs).")
        @OptionGroup var options: APIOptions
        @Argument var id: Int64
        @OptionGroup var fields: Fields
        func run() async throws {
            try await runAdmin { _ = try await options.call("PUT", APIPath.make(["rates", String(id)]), body: fields.body) }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Argument var id: Int64
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("DELETE", APIPath.make(["rates", String(id)]))
                print("deleted rate \(id)")
            }
        }
    }

    struct Activate: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Argument var id: Int64
        func run() async throws {
            try await runAdmin { _ = try await options.call("POST", APIPath.make(["rates", String(id), "activate"])) }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Argument var id: Int64
        func run() async throws {
            try await runAdmin { _ = try await options.call("POST", APIPath.make(["rates", String(id), "deactivate"])) }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the extensions a rate applies to.")
        @OptionGroup var options: APIOptions
        @Argument var id: Int64
        @Argument var extensions: [String] = []
        struct Body: Encodable { var extensions: [String] }
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("PUT", APIPath.make(["rates", String(id), "extensions"]), body: Body(extensions: extensions))
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import rates from CSV: every line checked, all or nothing.")
        @OptionGroup var options: APIOptions
        @Argument var file: String
        @Option(help: "merge (the default: lines with an id replace that rate, the others are added) or replace (the table becomes exactly the file; needs --yes).")
        var mode = "merge"
        @Flag(help: "Confirm --mode replace, which deletes every rate that is not in the file.") var yes = false
        func run() async throws {
            if mode == "replace" && !yes {
                throw ValidationError("--mode replace deletes every rate that is not in the file: add --yes to confirm")
            }
            try await runAdmin {
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
                _ = try await options.call("POST", APIPath.make(["rates", "import"], query: [("mode", mode)]), raw: bytes,
                                           contentType: "text/csv")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Option(help: "Write to this file instead of standard output.") var output: String?
        func run() async throws {
            try await runAdmin { _ = try await options.call("GET", APIPath.make(["rates", "export"]), output: output) }
        }
    }

    struct Quote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Which rate applies and what a call would cost.")
        @OptionGroup var options: APIOptions
        @Option(name: .customLong("extension")) var extensionNumber: String
        @Option var number: String
        @Option(help: "Start time (ISO 8601 or ms; default now).") var start: String?
        @Option(help: "Duration in seconds.") var duration = 60
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("GET", APIPath.make(["rates", "quote"], query: [
                    ("extension", extensionNumber), ("number", number), ("start", start), ("duration", String(duration)),
                ]))
            }
        }
    }
}
