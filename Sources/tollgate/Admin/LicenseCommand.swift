import Administration
import ArgumentParser
import Foundation

/// `tollgate license`: the device's source file, uploading a license, and the vendor's signing tools.
struct LicenseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "license", abstract: "License: download billing.ac, upload a license; vendor: keygen, issue.",
        subcommands: [Source.self, Upload.self, Issue.self, Keygen.self])

    struct Source: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download this device's billing.ac (administrator).")
        @OptionGroup var options: APIOptions
        @Option var output = "billing.ac"
        func run() async throws {
            try await runAdmin { _ = try await options.call("GET", APIPath.make(["admin", "license", "source"]), output: output) }
        }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Install a license file (administrator).")
        @OptionGroup var options: APIOptions
        @Argument var file: String
        func run() async throws {
            try await runAdmin {
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
                _ = try await options.call("POST", APIPath.make(["admin", "license"]), raw: bytes)
            }
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Vendor: sign a license for a device's billing.ac.")
        @Option(help: "The vendor's private key (base64), or @FILE to read it from a file.") var key: String
        @Option var licensee = ""
        @Option var output = "billing.lic"
        @Argument(help: "The device's billing.ac.") var source: String
        func run() throws {
            let keyText = key.hasPrefix("@") ? try String(contentsOfFile: String(key.dropFirst()), encoding: .utf8) : key
            let sourceFile = try JSONDecoder().decode(LicenseSource.self, from: Data(contentsOf: URL(fileURLWithPath: source)))
            do {
                let license = try License.issue(for: sourceFile, licensee: licensee, vendorPrivateKey: keyText,
                                                at: Int64(Date().timeIntervalSince1970 * 1000))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                try encoder.encode(license).write(to: URL(fileURLWithPath: output))
                print("wrote \(output) for device \(sourceFile.deviceFingerprint.prefix(16))…")
            } catch let error as LicenseError {
                FileHandle.standardError.write(Data("tollgate: \(error)\n".utf8))
                throw ExitCode(CLIFailure.refused)
            }
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Vendor: make an Ed25519 signing key pair.")
        func run() {
            let keys = License.makeVendorKeys()
            print("private (keep secret): \(keys.privateKey)")
            print("public (TOLLGATE_LICENSE_PUBLIC_KEY): \(keys.publicKey)")
        }
    }
}
