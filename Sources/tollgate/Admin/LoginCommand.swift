import ArgumentParser
import Foundation

/// `tollgate login`: signs in and saves the session token for the other admin commands.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Sign in to the admin API and save the session token.")

    @OptionGroup var options: APIOptions
    @Option(help: "User name (admin, or bill-xxx).") var user: String
    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (else env TOLLGATE_PASSWORD).")
    var passwordStdin = false

    struct Login: Encodable { var user: String; var password: String }

    func run() async throws {
        try await runAdmin {
            let password: String
            if passwordStdin {
                password = readLine(strippingNewline: true) ?? ""
            } else if let value = ProcessInfo.processInfo.environment["TOLLGATE_PASSWORD"] {
                password = value
            } else {
                throw CLIFailure(exitCode: CLIFailure.refused, message: "give the password with --password-stdin or TOLLGATE_PASSWORD")
            }
            let reply = try await options.call("POST", APIPath.make(["auth", "login"]),
                                               body: Login(user: user, password: password), authenticated: false,
                                               print: false)
            guard let object = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any],
                let token = object["token"] as? String
            else { throw CLIFailure(exitCode: CLIFailure.refused, message: "unexpected reply") }
            let file = APIOptions.tokenFile
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: file.path, contents: Data(token.utf8),
                                               attributes: [.posixPermissions: 0o600])
            print(options.json ? reply.text : "signed in as \(user) (\(object["role"] ?? "")); token saved in \(file.path)")
        }
    }
}

/// `tollgate logout`: ends the session and forgets the saved token.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "End the session.")
    @OptionGroup var options: APIOptions

    func run() async throws {
        try await runAdmin {
            _ = try await options.call("POST", APIPath.make(["auth", "logout"]), print: false)
            try? FileManager.default.removeItem(at: APIOptions.tokenFile)
            print("signed out")
        }
    }
}
