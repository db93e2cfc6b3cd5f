import AdminClient
import ArgumentParser
import Foundation
import NIOSSL

/// Where the API is and who is calling: shared by every admin subcommand.
struct APIOptions: ParsableArguments {
    @Option(name: .customLong("api"), help: "HOST:PORT of `tollgate serve`'s HTTP API, or https://HOST:PORT when it serves HTTPS (env TOLLGATE_API; default 127.0.0.1:8080).")
    var api: String?
    @Option(name: .customLong("api-ca"), help: "With https://: the CA file (PEM) to trust for the API's certificate (env TOLLGATE_API_CA; default the system's CAs).")
    var apiCA: String?
    @Option(name: .customLong("token"), help: "A session token (env TOLLGATE_TOKEN; default: the one `tollgate login` saved).")
    var token: String?
    @Flag(name: .customLong("json"), help: "Print the API's JSON instead of a table.")
    var json = false

    static var tokenFile: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["TOLLGATE_TOKEN_FILE"] { return URL(fileURLWithPath: path) }
        let home = environment["HOME"] ?? FileManager.default.currentDirectoryPath
        return URL(fileURLWithPath: home).appendingPathComponent(".config/tollgate/token")
    }

    func client(authenticated: Bool = true) throws -> AdminHTTPClient {
        let environment = ProcessInfo.processInfo.environment
        var address = api ?? environment["TOLLGATE_API"] ?? "127.0.0.1:8080"
        let https = address.hasPrefix("https://")
        if https { address.removeFirst("https://".count) } else if address.hasPrefix("http://") {
            address.removeFirst("http://".count)
        }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ValidationError("--api must be HOST:PORT or https://HOST:PORT")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var client = AdminHTTPClient(host: host, port: port)
        if https {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let ca = apiCA ?? environment["TOLLGATE_API_CA"] {
                do {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
                } catch {
                    throw ValidationError("--api-ca \(ca): not a readable PEM certificate (\(error))")
                }
            }
            client.tls = try NIOSSLContext(configuration: configuration)
        }
        if authenticated {
            client.token = token ?? environment["TOLLGATE_TOKEN"]
                ?? (try? String(contentsOf: Self.tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if client.token?.isEmpty ?? true {
                throw CLIFailure(exitCode: CLIFailure.notSignedIn, message: "not signed in: run `tollgate login --user NAME` or set TOLLGATE_TOKEN")
            }
        }
        return client
    }

    /// Sends a request, prints the reply (table or JSON), and turns API errors into exit codes.
    func call(_ method: String, _ path: String, body: (any Encodable)? = nil, raw: [UInt8]? = nil,
              contentType: String = "application/json", headers: [(String, String)] = [],
              authenticated: Bool = true, output: String? = nil, print printing: Bool = true) async throws -> HTTPReply {
        let client = try client(authenticated: authenticated)
        let bytes = try raw ?? body.map { Array(try JSONEncoder().encode($0)) }
        let reply: HTTPReply
        do {
            reply = try await client.send(method, path, body: bytes, contentType: contentType, headers: headers)
        } catch let error as AdminClientError {
            throw CLIFailure(exitCode: CLIFailure.unreachable, message: error.description)
        }
        guard (200..<300).contains(reply.status) else {
            throw CLIFailure.from(reply)
        }
        if let output {
            try Data(reply.body).write(to: URL(fileURLWithPath: output))
            print("wrote \(reply.body.count) bytes to \(output)")
        } else if printing {
            if json || !(reply.header("content-type")?.hasPrefix("application/json") ?? false) {
                if !reply.body.isEmpty { print(reply.text) }
            } else {
                print(JSONTable.render(reply.body))
            }
        }
        return reply
    }
}

/// A failed admin command: a message on stderr and an exit code scripts can rely on.
struct CLIFailure: Error, CustomStringConvertible {
    /// The API refused the request (bad input, not found, conflict…).
    static let refused: Int32 = 1
    /// The API could not be reached.
    static let unreachable: Int32 = 3
    /// No token, or the token is no longer valid.
    static let notSignedIn: Int32 = 4
    /// Signed in, but not allowed (wrong role, trial ended).
    static let forbidden: Int32 = 5

    var exitCode: Int32
    var message: String
    var description: String { message }

    static func from(_ reply: HTTPReply) -> CLIFailure {
        var message = "HTTP \(reply.status)"
        if let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any] {
            let code = object["code"] as? String ?? ""
            let text = object["message"] as? String ?? ""
            let field = (object["field"] as? String).map { " (\($0))" } ?? ""
            message = "\(code): \(text)\(field)"
            if let errors = object["errors"] as? [[String: Any]] {
                for error in errors { message += "\n  line \(error["line"] ?? "?"): \(error["message"] ?? "")" }
            }
        }
        let code: Int32 = switch reply.status {
        case 401: notSignedIn
        case 403: forbidden
        default: refused
        }
        return CLIFailure(exitCode: code, message: message)
    }
}

/// Runs an admin command body, mapping failures to messages and exit codes.
func runAdmin(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CLIFailure {
        FileHandle.standardError.write(Data(("tollgate: " + failure.message + "\n").utf8))
        throw ExitCode(failure.exitCode)
    }
}
