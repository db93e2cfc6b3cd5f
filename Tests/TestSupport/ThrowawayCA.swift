import Foundation

/// Certificates for TLS tests, made by the `openssl` command in a temporary directory: a CA, a server certificate
/// for 127.0.0.1 and client certificates it signs. Nothing here is ever trusted outside the test.
public struct ThrowawayCA: Sendable {
    public let directory: String
    public let name: String

    /// The CA's certificate (PEM).
    public var certificate: String { "\(directory)/\(name)-ca.pem" }
    public var key: String { "\(directory)/\(name)-ca.key" }

    /// A new CA called `name`, in `directory`.
    public init(_ name: String, in directory: String) throws {
        self.directory = directory
        self.name = name
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=\(name) test CA"])
    }

    /// A certificate this CA signs, for a server at 127.0.0.1 (`"127.0.0.1"`: that IP and localhost as its names)
    /// or for the PBX node called `commonName` (its DNS name, which the server matches to the Hello's node id):
    /// (certificate, key).
    public func issue(_ commonName: String) throws -> (certificate: String, key: String) {
        let base = "\(directory)/\(name)-\(commonName)"
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", "\(base).key", "-out", "\(base).csr", "-subj", "/CN=\(commonName)"])
        let extensions = "\(base).ext"
        let names = commonName == "127.0.0.1" ? "IP:127.0.0.1,DNS:localhost" : "DNS:\(commonName)"
        try "subjectAltName=\(names)\nextendedKeyUsage=serverAuth,clientAuth\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        try Self.openssl(["x509", "-req", "-in", "\(base).csr", "-CA", certificate, "-CAkey", key,
                          "-CAcreateserial", "-out", "\(base).pem", "-days", "2", "-extfile", extensions])
        return ("\(base).pem", "\(base).key")
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments[0]) failed"])
        }
    }
}
