import ArgumentParser
import Foundation

/// `tollgate ext`: list, show, add, edit and bulk-edit extensions.
struct ExtensionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ext", abstract: "Extensions: list, show, add, edit, bulk edit.",
        subcommands: [List.self, Show.self, Add.self, Edit.self, Bulk.self])

    /// The editable fields, shared by edit and bulk.
    struct Changes: ParsableArguments {
        @Option(help: "Credit, a decimal amount.") var credit: String?
        @Option(help: "locked or unlocked.") var status: String?
        @Option(name: .customLong("payment-type"), help: "prepaid or postpaid (resets total recharges).") var paymentType: String?
        @Option(help: "Billing on or off for the extension.") var billing: OnOff?

        struct Body: Encodable {
            var credit: String?
            var status: String?
            var paymentType: String?
            var billingEnabled: Bool?
            var userName: String?
        }

        var body: Body { Body(credit: credit, status: status, paymentType: paymentType, billingEnabled: billing?.value) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List extensions.")
        @OptionGroup var options: APIOptions
        @Option(help: "Part of the number or user name.") var number: String?
        @Option(help: "locked or unlocked.") var status: String?
        @Option(name: .customLong("payment-type")) var paymentType: String?
        @Option(help: "on or off.") var billing: OnOff?
        @Option var limit = 100
        @Option var offset = 0

        func run() async throws {
            try await runAdmin {
                _ = try await options.call("GET", APIPath.make(["extensions"], query: [
                    ("number", number), ("status", status), ("paymentType", paymentType),
                    ("billingEnabled", billing.map { String($0.value) }), ("limit", String(limit)), ("offset", String(offset)),
                ]))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one extension.")
        @OptionGroup var options: APIOptions
        @Argument var number: String
        func run() async throws { try await runAdmin { _ = try await options.call("GET", APIPath.make(["extensions", number])) } }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an extension known (billing off until enabled).")
        @OptionGroup var options: APIOptions
        @Argument var number: String
        @Option(name: .customLong("name"), help: "User name.") var userName: String?
        struct Body: Encodable { var number: String; var userName: String? }
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("POST", APIPath.make(["extensions"]), body: Body(number: number, userName: userName))
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Edit one extension.")
        @OptionGroup var options: APIOptions
        @Argument var number: String
        @OptionGroup var changes: Changes
        @Option(name: .customLong("name"), help: "User name.") var userName: String?
        func run() async throws {
            try await runAdmin {
                var body = changes.body
                body.userName = userName
                _ = try await options.call("PATCH", APIPath.make(["extensions", number]), body: body)
            }
        }
    }

    struct Bulk: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the same changes to many extensions; prints a result per extension.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Extension numbers.") var numbers: [String]
        @OptionGroup var changes: Changes
        struct Body: Encodable { var numbers: [String]; var changes: Changes.Body }
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("POST", APIPath.make(["extensions", "bulk"]),
                                           body: Body(numbers: numbers, changes: changes.body))
            }
        }
    }
}

/// `on` / `off` on the command line.
enum OnOff: String, ExpressibleByArgument, Sendable {
    case on, off
    var value: Bool { self == .on }
}
