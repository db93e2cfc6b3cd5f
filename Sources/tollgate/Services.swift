import Administration
import Hummingbird
import Journal
import Ledger
import Logging
import Metering
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import PBXServer
import ServiceLifecycle
import UnixSignals

/// The ledger's writer as a service: on shutdown it commits what is queued, then stops.
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

/// systemd's side of `serve` as a service: the watchdog fed while it runs, STOPPING=1 when shutdown begins (READY=1
/// is sent by the readiness of the listeners). Does nothing outside systemd.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let time: EngineTime

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await notifier.keepWatchdogFed(time: time) }
            try? await gracefulShutdown()
            notifier.notify("STOPPING=1")
            group.cancelAll()
        }
    }
}

/// The engine's tick scheduler as a service, plus the grace period for calls left open by a restart.
struct EngineService: Service {
    let engine: MeteringEngine
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
                    try await engine.scheduler.time.sleep(for: resyncGrace)
                    let settled = try await engine.settleUnclaimed()
                    if !settled.isEmpty {
                        logger.warning("settled calls no PBX claimed after the restart",
                                       metadata: .fields([.count: "\(settled.count)"]))
                    }
                }
            }
        }
    }
}

/// The PBX socket server as a service: it binds, reports the bound port, and serves until graceful shutdown.
struct PBXService: Service {
    let server: PBXServer
    let onBound: @Sendable (Int) -> Void

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await server.run(onBound: onBound) }
        } catch where Task.isShuttingDownGracefully {
            // Graceful shutdown stops the accept loop by cancelling it; what that throws is not a failure.
        }
    }
}

/// A listener in `serve`'s service group: a socket error before its address is bound is that bind's failure,
/// told as `HOST:PORT: address already in use` rather than as whatever the other services log while they stop.
/// Other errors (the console's preparation, which runs before the bind) pass through as they are.
struct ListenerService: Service {
    let listener: Readiness.Listener
    let address: String
    let readiness: Readiness
    let service: any Service

    func run() async throws {
        do {
            try await service.run()
        } catch where (error is IOError || error is SocketAddressError) && !readiness.isBound(listener) {
            throw ListenerFailure(address: address, underlying: error)
        }
    }
}

/// Reloads the TLS certificates on SIGHUP (`systemctl reload tollgate`): new connections get the new ones, open
/// connections keep theirs. Files that do not load leave the previous certificates in place, with an error logged.
struct TLSReloadService: Service {
    let listeners: [(files: TLSFiles, contexts: NIOLockedValueBox<NIOSSLContext>)]
    let logger: Logger

    func run() async throws {
        // Trapped also without TLS: SIGHUP's default would end the process (`systemctl reload` must not). The
        // loop ends only at shutdown, since a service of the group that returns ends the whole group.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            if listeners.isEmpty { logger.info("SIGHUP: no TLS certificate to reload; other settings need a restart") }
            for (files, contexts) in listeners {
                do {
                    let context = try files.makeContext()
                    contexts.withLockedValue { $0 = context }
                    logger.info("TLS certificate reloaded", metadata: .fields([.path: "\(files.certificate)"]))
                } catch {
                    logger.error("TLS certificate not reloaded; the previous one stays in use", metadata: .fields([
                        .path: "\(files.certificate)", .error: "\(error)",
                    ]))
                }
            }
        }
    }
}
