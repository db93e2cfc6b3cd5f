import NIOCore
import NIOPosix
import TestSupport
import Testing
@testable import tollgate

@Suite("tollgate serve: a listener's port already in use", .timeLimit(.minutes(1)))
struct ListenerFailureTests {
    enum Taken: Sendable { case pbx, http }

    /// Runs `serve` with one of its ports held by another socket; returns its error and what it logged.
    func serve(taken: Taken) async throws -> (error: (any Error)?, logged: [String], port: Int) {
        let directory = try TemporaryDirectory("serve-port-taken")
        defer { directory.remove() }
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = holder.localAddress?.port ?? 0
        var settings = ServeSettings()
        settings.dataDirectory = directory.path
        settings.pbxSecret = "listener-test-secret"
        settings.bcryptCost = 4
        settings.initialAdminPassword = "admin-password-1"
        settings.pbxPort = taken == .pbx ? port : 0
        settings.httpPort = taken == .http ? port : 0
        let logged = CapturedLog()
        var failure: (any Error)?
        do {
            try await TollgateServer(settings: settings, logger: logged.logger, shutdownSignals: []).run()
        } catch {
            failure = error
        }
        try await holder.close()
        return (failure, logged.all.map(\.message), port)
    }

    @Test("a port taken: serve ends with HOST:PORT: address already in use, and never said it serves",
          arguments: [Taken.http, Taken.pbx])
    func portTaken(_ taken: Taken) async throws {
        let (error, logged, port) = try await serve(taken: taken)
        let failure = try #require(error as? ListenerFailure)
        #expect(failure.description == "127.0.0.1:\(port): address already in use")
        #expect(!logged.contains("serving"))
        // The group shut down gracefully (so the ledger committed what it held) rather than being cancelled.
        #expect(logged.contains { $0.contains("Shutting down group") })
    }
}
