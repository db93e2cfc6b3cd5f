import NIOConcurrencyHelpers
import NIOSSL

/// One listener's certificate files, as the settings name them, and the server context made from them.
struct TLSFiles: Equatable, Sendable {
    /// PEM: the server's certificate, then any intermediates.
    var certificate: String
    /// PEM: its private key.
    var key: String
    /// PEM: the CAs a client certificate must chain to; set, every client must present one (mutual TLS).
    var clientCA: String?

    /// Reads the files now: a bad or missing one names itself.
    func makeContext() throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw ServeSettings.Problem(description: "TLS certificate \(certificate): not readable PEM (\(error))")
        }
        guard !chain.isEmpty else {
            throw ServeSettings.Problem(description: "TLS certificate \(certificate): no certificate in it")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw ServeSettings.Problem(description: "TLS key \(key): not a readable PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
            } catch {
                throw ServeSettings.Problem(description: "TLS client CA \(clientCA): not readable PEM (\(error))")
            }
            // A client without a certificate, or with one no CA here signed, fails the handshake.
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServeSettings.Problem(description: "TLS \(certificate) with \(key): \(error)")
        }
    }

    /// A box the listener reads each new connection's context from, filled now.
    func makeBox() throws -> NIOLockedValueBox<NIOSSLContext> { NIOLockedValueBox(try makeContext()) }
}
