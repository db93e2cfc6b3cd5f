import Administration
import Hummingbird
import Ledger
import Logging
import Metering
import PBXServer
import ServiceLifecycle

/// The ledger's persistence actor as a service: on shutdown it commits what is queued, then stops.
///
/// A failed commit (a full disk, an I/O error) stops the writer; the service then throws, which stops the whole
/// server with an error and a non-zero exit. Running on would authorize calls it can no longer bill, and an exit
/// that looked clean would keep a supervisor (`Restart=on-failure`) from starting it again.
struct LedgerService: Service {
    let ledger: SQLiteLedger

    func run() async throws {
        await withGracefulShutdownHandler {
            await ledger.run()
        } onGracefulShutdown: {
            Task { try? await ledger.close() }
        }
        if let failure = await ledger.writeFailure { throw failure }
    }
}

/// The engine's tick scheduler as a service, plus the grace period for calls left open by a restart.
struct EngineService<C: Clock>: Service where C.Duration == Duration {
    let engine: MeteringEngine<C>
    let resyncGrace: Duration
    let logger: Logger

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try? await cancelWhenGracefulShutdown { try await engine.run() }
            }
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    // Also with no call restored: a resync may still claim calls the restart lost.
                    guard engine.acceptsLostCalls else { return }
                    try await engine.scheduler.time.clock.sleep(for: resyncGrace)
                    let settled = try await engine.settleUnclaimed()
                    if !settled.isEmpty {
                        logger.warning("settled calls no PBX claimed after the restart",
                                       metadata: ["count": "\(settled.count)"])
                    }
                }
            }
        }
    }
}

/// The PBX socket server as a service.
struct PBXService<C: Clock>: Service where C.Duration == Duration {
    let server: PBXServer<C>

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await server.run() }
    }
}

/// The administration HTTP listener (the API and the console) as a service: it prepares the operations (which
/// needs the ledger's writer running), then serves until graceful shutdown.
struct AdminHTTPService<C: Clock, App: ApplicationProtocol & Service>: Service where C.Duration == Duration {
    let operations: AdminOperations<C>
    let application: App

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            try await operations.prepare()
            try await application.runService(gracefulShutdownSignals: [])
        }
    }
}
