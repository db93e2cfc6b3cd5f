import Metering
import NIOConcurrencyHelpers
import NIOSSL
@testable import PBXServer
@testable import PBXWire
import TestSupport
import Testing

@Suite("PBX socket over TLS: mutual TLS, a plaintext client refused clearly, certificates reloaded",
       .timeLimit(.minutes(1)))
struct PBXServerTLSTests {
    /// A server whose TLS context the test can replace, with client certificates required from `clientCA`.
    struct Harness {
        let engine = MeteringEngine(clock: ManualClock(), originEpochMillis: t0, journal: MemoryJournal())
        let contexts: NIOLockedValueBox<NIOSSLContext>
        let task: Task<Void, any Error>
        let port: Int

        init(server: (certificate: String, key: String), clientCA: String?) async throws {
            contexts = NIOLockedValueBox(try Self.serverContext(server, clientCA: clientCA))
            let pbx = PBXServer(engine: engine, configuration: .init(
                port: 0, session: .init(secret: "s3cret", serverVersion: "test"), tls: contexts))
            let (ports, bound) = AsyncStream<Int>.makeStream()
            task = Task { try await pbx.run { bound.yield($0) } }
            var iterator = ports.makeAsyncIterator()
            port = await iterator.next() ?? 0
        }

        static func serverContext(_ server: (certificate: String, key: String), clientCA: String?) throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(server.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: server.key, format: .pem)))
            if let clientCA {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
                configuration.certificateVerification = .noHostnameVerification
            }
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// A PBX's client context: the CA it trusts for the server, and its own certificate if it has one.
    static func client(trusting ca: String, identity: (certificate: String, key: String)? = nil) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        configuration.certificateVerification = .noHostnameVerification
        if let identity {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(identity.certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: identity.key, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Hello over a connection; nil when the connection failed or closed without a reply.
    static func hello(port: Int, tls: NIOSSLContext?, node: String = "pbx-test") async -> Tollgate_Pbx_V1_Envelope? {
        try? await PBXTestClient.connect(port: port, tls: tls) { pbx in try await pbx.hello(node: node) }
    }

    @Test("a PBX with a certificate from the client CA gets its session as the node it names; without one, with a stranger's, or as another node, none")
    func mutualTLS() async throws {
        let directory = try TemporaryDirectory("tls")
        defer { directory.remove() }
        let ca = try ThrowawayCA("tollgate", in: directory.path)
        let stranger = try ThrowawayCA("stranger", in: directory.path)
        let h = try await Harness(server: try ca.issue("127.0.0.1"), clientCA: ca.certificate)
        defer { h.task.cancel() }

        let nodeA = try Self.client(trusting: ca.certificate, identity: try ca.issue("pbx-a"))
        let ok = await Self.hello(port: h.port, tls: nodeA, node: "pbx-a")
        #expect(ok?.status.code == .ok && ok?.helloReply.sessionID.isEmpty == false)
        // Node A's certificate does not stand for node B.
        let posing = await Self.hello(port: h.port, tls: nodeA, node: "pbx-b")
        #expect(posing?.status.code == .unauthenticated)
        #expect(posing?.status.message == "this connection's client certificate is for \"pbx-a\", not node \"pbx-b\"")
        #expect(await Self.hello(port: h.port, tls: try Self.client(trusting: ca.certificate)) == nil)
        #expect(await Self.hello(port: h.port, tls: try Self.client(
            trusting: ca.certificate, identity: try stranger.issue("pbx-b"))) == nil)
        // A PBX that does not trust the server's CA gives up on its side.
        #expect(await Self.hello(port: h.port, tls: try Self.client(
            trusting: stranger.certificate, identity: try ca.issue("pbx-c"))) == nil)
    }

    @Test("a plaintext PBX on the TLS port is told so in its own protocol, then disconnected")
    func plaintextRefused() async throws {
        let directory = try TemporaryDirectory("tls-plain")
        defer { directory.remove() }
        let ca = try ThrowawayCA("tollgate", in: directory.path)
        let h = try await Harness(server: try ca.issue("127.0.0.1"), clientCA: nil)
        defer { h.task.cancel() }
        let reply = try #require(await Self.hello(port: h.port, tls: nil))
        #expect(reply.status.code == .unauthenticated)
        #expect(reply.status.message.contains("this port requires TLS"))
        let closed: Bool = try await PBXTestClient.connect(port: h.port) { pbx in
            _ = try await pbx.hello()
            return try await pbx.next() == nil
        }
        #expect(closed)
        // TLS without a client CA: any PBX with the secret.
        #expect(await Self.hello(port: h.port, tls: try Self.client(trusting: ca.certificate))?.status.code == .ok)
    }

    @Test("a replaced context serves the next connections: a renewed certificate from a new CA")
    func reload() async throws {
        let directory = try TemporaryDirectory("tls-reload")
        defer { directory.remove() }
        let old = try ThrowawayCA("old", in: directory.path)
        let new = try ThrowawayCA("new", in: directory.path)
        let h = try await Harness(server: try old.issue("127.0.0.1"), clientCA: nil)
        defer { h.task.cancel() }
        let trustingNew = try Self.client(trusting: new.certificate)
        #expect(await Self.hello(port: h.port, tls: trustingNew) == nil)
        let renewed = try Harness.serverContext(try new.issue("127.0.0.1"), clientCA: nil)
        h.contexts.withLockedValue { $0 = renewed }
        #expect(await Self.hello(port: h.port, tls: trustingNew)?.status.code == .ok)
    }
}
