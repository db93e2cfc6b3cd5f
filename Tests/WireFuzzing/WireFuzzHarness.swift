import BillingCore
import Foundation
import Logging
import Metering
import NIOCore
import NIOEmbedded
import PBXServer
import PBXWire
import Synchronization
import TestSupport

/// Plays arbitrary bytes to the PBX server's request path as one connection's byte stream, after a valid
/// handshake: the same pipeline as a socket (frame decoder, envelope decoder) and a ``PBXSession``, through its
/// public interface as the server drives it, on a real engine with a manual clock and an in-memory journal.
///
/// Time is in the input's hands: after each request the clock moves by the low byte of its correlation id
/// times 250 ms (0 to 63.75 s), so inputs can reach charges, warnings and cuts. So is a restart: when bit 8
/// (0x100) of the first request's correlation id is set, the engine is in its grace period after a restart, so a
/// resync may claim calls it lost.
/// Used by the libFuzzer target in `Fuzz/` and by the tests that replay its corpus.
public enum WireFuzzHarness {
    /// The shared secret the harness's handshake uses.
    public static let secret = "fuzz-secret"
    /// Extensions set up before the input plays, with their balance, credit and status.
    static let accounts: [(number: String, balance: Int64, credit: Int64, locked: Bool)] = [
        ("100", 1_000_000, 0, false), ("101", 50_000, 100_000, false), ("102", 1_000_000_000, 5_000_000, false),
        ("103", 1_000_000, 0, true), ("104", 0, 0, false),
    ]
    static let originMillis: Int64 = 1_700_000_000_000

    /// What one input did, and every rule it broke.
    public struct Outcome: Sendable {
        /// Requests handed to the engine.
        public var dispatched = 0
        /// Frames the server would have written in reply (pushes aside).
        public var replies = 0
        /// Whether the session ended (a broken stream, a bad frame).
        public var closed = false
        /// Calls settled, and what they cost in all (micro-units).
        public var settled = 0
        public var settledMicros: Int64 = 0
        /// Broken invariants: each is a finding.
        public var violations: [String] = []
    }

    /// Runs one input on a fresh engine.
    public static func run(_ input: [UInt8]) async -> Outcome {
        var outcome = Outcome()
        let clock = ManualClock()
        let journal = MemoryJournal()
        let engine = MeteringEngine(clock: clock, originEpochMillis: originMillis, journal: journal)
        do {
            try await setUp(engine)
        } catch {
            outcome.violations.append("set-up failed: \(error)")
            return outcome
        }
        let configuration = PBXServer.Configuration(
            port: 0, session: .init(secret: secret, serverVersion: "fuzz", maxFrameBytes: 64 * 1024))
        let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        let pushes = PushCount()
        var session = PBXSession(engine: engine, configuration: configuration, pushes: pushes.offer, close: {},
                                 logger: logger)
        let (frames, streamError) = decode(hello() + input, maxFrameBytes: configuration.session.maxFrameBytes)

        for (index, frame) in frames.enumerated() {
            let correlationID = frame.correlationID ?? 0
            let established = session.isEstablished
            if established, outcome.dispatched == 0, correlationID & 0x100 != 0 { engine.restore([]) }
            let output = await session.received(frame)
            if established { outcome.dispatched += 1 }
            switch output {
            case .reply:
                outcome.replies += 1
            case .replyAfterCommit(let deferred):
                _ = await deferred.reply(logger: logger)
                outcome.replies += 1
            case .close(let last):
                if last != nil { outcome.replies += 1 }
                outcome.closed = true
            case .push:
                outcome.violations.append("frame \(index) answered with a push")
            case nil:
                if established, !frame.isPushAcknowledgement {
                    outcome.violations.append("request \(correlationID) got no reply")
                }
            }
            if outcome.closed { break }
            clock.advance(by: .milliseconds(Int64(correlationID & 0xFF) * 250))
            await engine.scheduler.fireDue()
        }
        if let streamError, !outcome.closed, case .close(let last) = session.failed(streamError) {
            if last != nil { outcome.replies += 1 }
            outcome.closed = true
        }
        // Every call still live ends now, the PBX claiming the longest it may (31 days), on a new connection as a
        // PBX would after a close: then the money must add up exactly.
        var closing = PBXSession(engine: engine, configuration: configuration, pushes: pushes.offer, close: {},
                                 logger: logger)
        _ = await closing.received(InboundEnvelope(payload: ByteBuffer(bytes: PBXClientCodec.hello(
            correlationID: 1, nodeID: "fuzz-pbx", secret: secret, software: "fuzz"))))
        for call in await engine.liveCalls() {
            let end = PBXClientCodec.ended(correlationID: 0, callID: call.callID, billableMillis: 31 * 86_400_000,
                                           cause: "fuzz")
            if case .replyAfterCommit(let deferred) = await closing.received(InboundEnvelope(payload: ByteBuffer(bytes: end))) {
                _ = await deferred.reply(logger: logger)
            }
        }
        // Both connections gone, with no call left to keep: the engine is told as the server tells it.
        await session.closed()
        await closing.closed()
        outcome.violations += await brokenRules(engine, journal)
        outcome.settled = journal.settlements.count
        outcome.settledMicros = journal.settlements.reduce(0) { $0 &+ $1.cost.micros }
        return outcome
    }

    /// Frames as the server's pipeline cuts and decodes them, and the error that ended the stream, if any.
    static func decode(_ bytes: [UInt8], maxFrameBytes: Int) -> ([InboundEnvelope], FrameError?) {
        let channel = EmbeddedChannel()
        var failure: FrameError?
        do {
            try channel.pipeline.syncOperations.addHandlers(
                ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)), EnvelopeDecoder())
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch let error as FrameError {
            failure = error
        } catch {
            failure = .truncated(bytes: bytes.count)
        }
        var envelopes: [InboundEnvelope] = []
        while let envelope = try? channel.readInbound(as: InboundEnvelope.self) { envelopes.append(envelope) }
        // Finishing also closes the channel, which frees its pipeline even after an error.
        do { _ = try channel.finish(acceptAlreadyClosed: true) } catch let error as FrameError {
            failure = failure ?? error
        } catch {}
        while let envelope = try? channel.readInbound(as: InboundEnvelope.self) { envelopes.append(envelope) }
        return (envelopes, failure)
    }

    /// A valid handshake frame, so inputs start in an established session.
    public static func hello() -> [UInt8] {
        frame(PBXClientCodec.hello(correlationID: 1, nodeID: "fuzz-pbx", secret: secret, software: "fuzz"))
    }

    /// Counts the pushes the engine queued for the connection (all accepted).
    final class PushCount: Sendable {
        private let count = Atomic(0)
        var value: Int { count.load(ordering: .relaxed) }
        @Sendable func offer(_ payload: [UInt8]) -> Bool {
            count.add(1, ordering: .relaxed)
            return true
        }
    }

    /// A payload with its 4-byte big-endian length.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + payload
    }

    static func setUp(_ engine: MeteringEngine) async throws {
        let all = Set(accounts.map(\.number))
        for account in accounts {
            try await engine.setUpBilled(account.number, balance: Money(micros: account.balance),
                                         credit: Money(micros: account.credit))
            if account.locked { _ = try await engine.updateExtension(number: account.number, AccountChange(status: .locked)) }
        }
        // Per second for numbers starting 0; per minute with a connection fee and a first minute for 00.
        try await engine.saveRate(Rate(id: 1, prefix: "0", tariff: Tariff(rate: Money(micros: 20_000), unit: 1),
                                       extensions: all))
        try await engine.saveRate(Rate(id: 2, prefix: "00", tariff: Tariff(
            initialCost: Money(micros: 100_000), initialTime: 60, rate: Money(micros: 600_000), unit: 60),
                                       extensions: all))
    }

    /// What must hold after any input: no account below its credit, every call settled once, no negative cost.
    static func brokenRules(_ engine: MeteringEngine, _ journal: MemoryJournal) async -> [String] {
        var broken: [String] = []
        for account in await engine.extensionAccounts() where account.billingEnabled && account.available.isNegative {
            broken.append("extension \(account.number) overspent: balance \(account.balance), credit \(account.credit)")
        }
        if !(await engine.liveCalls()).isEmpty { broken.append("calls still live after every call ended") }
        // Each balance is what was recharged less what its settled calls cost, to the micro-unit.
        var charged: [String: Int64] = [:]
        for record in journal.settlements { charged[record.extensionNumber, default: 0] += record.cost.micros }
        for account in await engine.extensionAccounts() {
            let loaded = accounts.first { $0.number == account.number }?.balance ?? 0
            if account.balance.micros != loaded - charged[account.number, default: 0] {
                broken.append("extension \(account.number): balance \(account.balance) but recharged \(loaded) micros "
                              + "less \(charged[account.number, default: 0]) settled")
            }
        }
        var settled = Set<String>()
        for record in journal.settlements {
            if !settled.insert(record.callID).inserted { broken.append("call \(record.callID) settled twice") }
            if record.cost.isNegative { broken.append("call \(record.callID) cost \(record.cost)") }
        }
        return broken
    }
}
