import BillingCore
import Metering
import Testing
import TestSupport

/// The tick loop waits without ticking while nothing is scheduled, sleeps to the next occupied slot when
/// wake-ups are sparse, and wakes early for anything scheduled sooner.
@Suite("Tick scheduler: idle and sparse wake-ups")
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

    @Test("with wake-ups far apart the loop sleeps to the next one; an earlier schedule cuts the sleep short")
    func sparseWakeups() async throws {
        let h = Harness()
        try await h.billed("8001", balance: "10")
        try await h.billed("8002", balance: "0.03")
        try await h.engine.saveRate(try Rate(id: 1, prefix: "0", tariff: Tariff(rate: money("0.02"), unit: 2),
                                             extensions: ["8001"]))
        try await h.engine.saveRate(try Rate(id: 2, prefix: "0", tariff: Tariff(rate: money("0.01"), unit: 1),
                                             extensions: ["8002"]))
        var reader = EventReader(h.engine)
        let loop = Task { try await h.engine.run() }
        #expect(await eventually { h.engine.scheduler.isIdle })

        // A 2-second unit answered at t0: nothing is due before t0 + 2 s, so the loop sleeps until then.
        _ = try await h.engine.authorize(callID: "slow", extensionNumber: "8001", dialled: "0123")
        try await h.engine.answered(callID: "slow")
        #expect(await eventually { h.engine.scheduler.plannedWake == t0 + 2_000 && h.clock.sleeperCount == 1 })

        // 300 ms later a 1-second call on another extension is due at t0 + 1.3 s: the sleep is cut short and
        // re-planned for that instant. Its money pays three units (at answer, +1 s, +2 s), so it is cut at
        // t0 + 3.3 s exactly.
        h.clock.advance(by: .milliseconds(300))
        _ = try await h.engine.authorize(callID: "fast", extensionNumber: "8002", dialled: "0123")
        try await h.engine.answered(callID: "fast")
        #expect(await eventually { h.engine.scheduler.plannedWake == t0 + 1_300 && h.clock.sleeperCount == 1 })
        let cutoff = Task { await reader.next(1, where: isCutoff) }
        for _ in 0..<35 {
            h.clock.advance(by: .milliseconds(100))
            _ = await eventually { h.clock.sleeperCount == 1 }
        }
        #expect(await cutoff.value == [.cutoff(callID: "fast", extensionNumber: "8002", boundary: t0 + 3_300,
                                              reason: .insufficientFunds)])
        let slow = try #require(await h.engine.liveCalls().first { $0.callID == "slow" })
        #expect(slow.charged == money("0.04"))

        loop.cancel()
        _ = try? await loop.value
    }
}
