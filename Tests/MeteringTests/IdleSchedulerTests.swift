import BillingCore
import Metering
import Testing
import TestSupport

/// The tick loop waits without ticking while nothing is scheduled, and wakes for the first call.
@Suite("Tick scheduler: idle without live calls")
struct IdleSchedulerTests {
    /// Yields until `condition` holds (bounded: never waits on time).
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<100_000 {
            if condition() { return true }
            await Task.yield()
        }
        return condition()
    }

    @Test("no clock sleeps while idle; a live call brings the ticking back, its end stops it again")
    func idleUntilScheduled() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "10")
        try await h.engine.saveRate(perSecond("0.02", exts: ["8001"]))
        let loop = Task { try await h.engine.run() }
        #expect(await eventually { h.engine.scheduler.isIdle })
        #expect(h.clock.sleeperCount == 0)

        _ = try await h.engine.authorize(callID: "c", extensionNumber: "8001", dialled: "0123")
        try await h.engine.answered(callID: "c")
        #expect(await eventually { h.clock.sleeperCount == 1 })
        #expect(!h.engine.scheduler.isIdle)
        // Three seconds of ticks on the manual clock: the call pays its three units as usual.
        for _ in 0..<30 {
            h.clock.advance(by: .milliseconds(100))
            #expect(await eventually { h.clock.sleeperCount == 1 || h.engine.scheduler.isIdle })
        }
        let charged = try #require(await h.engine.liveCalls().first).charged
        #expect(charged == money("0.08"))

        _ = try await h.engine.ended(callID: "c", billableMillis: 3_000, cause: "NORMAL")
        // The call's remaining wheel entry fires once more, finds nothing to do, and the loop goes idle.
        for _ in 0..<20 where !h.engine.scheduler.isIdle {
            h.clock.advance(by: .milliseconds(100))
            _ = await eventually { h.clock.sleeperCount == 1 || h.engine.scheduler.isIdle }
        }
        #expect(h.engine.scheduler.isIdle)
        #expect(h.clock.sleeperCount == 0)

        loop.cancel()
        _ = try? await loop.value
    }

    @Test("cancelling an idle loop ends it")
    func cancelWhileIdle() async throws {
        let h = Harness()
        let loop = Task { try await h.engine.run() }
        #expect(await eventually { h.engine.scheduler.isIdle })
        loop.cancel()
        await #expect(throws: CancellationError.self) { try await loop.value }
    }
}
