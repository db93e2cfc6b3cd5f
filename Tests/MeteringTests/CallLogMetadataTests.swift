import BillingCore
import Journal
import Logging
import Metering
import Testing
import TestSupport

/// The route of a PBX connection that is about to drop: its pushes are taken and go nowhere.
final class SilentRoute: CallRoute {
    func deliver(_ event: BillingEvent, nowMillis: Int64) -> Bool { true }
    func hangup(callID: String, reason: String) -> Bool { true }
    func close() {}
    var description: String { "silent" }
}

@Suite("the engine's lines about a call carry its call id and extension as metadata")
struct CallLogMetadataTests {
    @Test("a call its PBX abandoned, settled at the end of the grace period", .timeLimit(.minutes(1)))
    func abandoned() async throws {
        let log = CapturedLog()
        let h = Harness(logger: log.logger)
        try await h.billed("8001", balance: "1")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        let route = SilentRoute()
        _ = try await h.engine.authorize(callID: "gone-1", extensionNumber: "8001", dialled: "0123", route: route)
        try await h.engine.answered(callID: "gone-1")
        let (waiting, started) = AsyncStream<Void>.makeStream()
        let dropped = Task { await h.engine.connectionDropped(route, graceMillis: 1_000) { started.yield() } }
        for await _ in waiting { break }
        await h.advance(ms: 1_000)
        await dropped.value
        let line = try #require(log.entries(containing: "settled a call its PBX abandoned").first)
        #expect(line.level == .warning)
        #expect(line.metadata["call_id"] == "gone-1")
        #expect(line.metadata["extension"] == "8001")
        #expect(line.metadata["billable_ms"] == "1000")
    }

    @Test("an End sent again for a call a restart lost whole, settled from it")
    func lostWhole() async throws {
        let log = CapturedLog()
        let h = Harness(logger: log.logger)
        h.engine.restore([RestoredAccount(
            account: ExtensionAccount(number: "8001", billingEnabled: true, balance: money("1")), calls: [],
            checkpointAt: t0)])
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        let lost = ClaimedCall(callID: "lost-1", extensionNumber: "8001", dialled: "0123", answered: true,
                               answeredMillisAgo: 2_000)
        _ = try await h.engine.endedWithoutWaiting(callID: "lost-1", billableMillis: 2_000, cause: "NORMAL_CLEARING",
                                                   lost: lost)
        let line = try #require(log.entries(containing: "settled a call the restart lost").first)
        #expect(line.metadata["call_id"] == "lost-1")
        #expect(line.metadata["extension"] == "8001")
        #expect(line.metadata["billable_ms"] == "2000")
    }
}
