import Administration
import ArgumentParser
import Foundation

/// `tollgate settings`.
struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Show or change billing settings.", subcommands: [Show.self, Set.self],
        defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        func run() async throws { try await runAdmin { _ = try await options.call("GET", APIPath.make(["settings"])) } }
    }

    struct Set: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Option(help: "USD, CNY, EUR, GBP or Other.") var currency: String?
        @Option(name: .customLong("time-zone"), help: "IANA time zone for rate time blocks.") var timeZone: String?
        @Option(name: .customLong("free-numbers"), parsing: .upToNextOption) var freeNumbers: [String] = []
        @Option(name: .customLong("no-rate-policy"), help: "deny or allow-unbilled.") var noRatePolicy: String?
        @Option(name: .customLong("warning-lead"), help: "Seconds of warning before a cutoff.") var warningLead: Int64?
        @Option(name: .customLong("grant-validity"),
                help: "Seconds a PBX may run a call without hearing from the engine (its failsafe).")
        var grantValidity: Int64?
        @Option(name: .customLong("max-recharge")) var maxRecharge: String?
        struct Body: Encodable {
            var currency: String?; var timeZone: String?; var freeNumbers: [String]?; var noRatePolicy: String?
            var warningLeadSeconds: Int64?; var grantValiditySeconds: Int64?; var maxRecharge: String?
        }
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("PUT", APIPath.make(["settings"]), body: Body(
                    currency: currency, timeZone: timeZone, freeNumbers: freeNumbers.isEmpty ? nil : freeNumbers,
                    noRatePolicy: noRatePolicy, warningLeadSeconds: warningLead, grantValiditySeconds: grantValidity,
                    maxRecharge: maxRecharge))
            }
        }
    }
}

/// `tollgate billing`: activation (administrator).
struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing", abstract: "Billing activation status, on, off (administrator).",
        subcommands: [Status.self, On.self, Off.self], defaultSubcommand: Status.self)

    struct Status: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        func run() async throws { try await runAdmin { _ = try await options.call("GET", APIPath.make(["admin", "billing"])) } }
    }

    struct On: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        func run() async throws {
            try await runAdmin { _ = try await options.call("PUT", APIPath.make(["admin", "billing"]), body: ["enabled": true]) }
        }
    }

    struct Off: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        func run() async throws {
            try await runAdmin { _ = try await options.call("PUT", APIPath.make(["admin", "billing"]), body: ["enabled": false]) }
        }
    }
}

/// `tollgate user`: billing users (administrator) and one's own password.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Billing users: list, add, remove, reset; passwd for your own password.",
        subcommands: [List.self, Add.self, Remove.self, Reset.self, Passwd.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        func run() async throws { try await runAdmin { _ = try await options.call("GET", APIPath.make(["admin", "users"])) } }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a billing user; its password is shown once.")
        @OptionGroup var options: APIOptions
        @Argument(help: "bill-xxx (default: generated).") var name: String?
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("POST", APIPath.make(["admin", "users"]), body: name.map { ["name": $0] })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Argument var name: String
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("DELETE", APIPath.make(["admin", "users", name]))
                print("removed \(name)")
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a billing user a new random password (shown once).")
        @OptionGroup var options: APIOptions
        @Argument var name: String
        func run() async throws {
            try await runAdmin { _ = try await options.call("POST", APIPath.make(["admin", "users", name, "password"])) }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change your own password: current, then new, on standard input.")
        @OptionGroup var options: APIOptions
        struct Body: Encodable { var currentPassword: String; var newPassword: String }
        func run() async throws {
            try await runAdmin {
                let current = readLine(strippingNewline: true) ?? ""
                let new = readLine(strippingNewline: true) ?? ""
                _ = try await options.call("POST", APIPath.make(["auth", "password"]),
                                           body: Body(currentPassword: current, newPassword: new))
                print("password changed; sign in again")
            }
        }
    }
}

/// `tollgate live`: calls in progress.
struct LiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live", abstract: "Calls in progress: list, hang up.", subcommands: [List.self, Hangup.self],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        func run() async throws { try await runAdmin { _ = try await options.call("GET", APIPath.make(["live-calls"])) } }
    }

    struct Hangup: AsyncParsableCommand {
        @OptionGroup var options: APIOptions
        @Argument(help: "The call id.") var callID: String
        @Option var reason: String?
        func run() async throws {
            try await runAdmin {
                _ = try await options.call("POST", APIPath.make(["live-calls", callID, "hangup"]),
                                           body: reason.map { ["reason": $0] })
            }
        }
    }
}
