import BillingCore
@testable import Metering
import Testing

/// The engine's events reach their one consumer in the order they were made, in batches.
@Suite("Event queue: order, batches, end")
struct EventQueueTests {
    private static func cutoff(_ id: String) -> BillingEvent {
        .cutoff(callID: id, extensionNumber: "8001", boundary: 1_000, reason: .insufficientFunds)
    }

    @Test("events queued meanwhile come in one batch, in order; one at a time through the iterator too")
    func order() async {
        let queue = EventQueue()
        queue.append(contentsOf: [Self.cutoff("a")])
        queue.append(contentsOf: [Self.cutoff("b"), Self.cutoff("c")])
        #expect(await queue.nextBatch().map(\.callID) == ["a", "b", "c"])
        queue.append(contentsOf: [Self.cutoff("d"), Self.cutoff("e")])
        queue.finish()
        var ids: [String] = []
        for await event in queue { ids.append(event.callID) }
        #expect(ids == ["d", "e"])
    }

    @Test("a waiting consumer gets the next events at once; after finish, nothing more is queued")
    func waitingConsumer() async {
        let queue = EventQueue()
        let consumer = Task { await queue.nextBatch() }
        for _ in 0..<100_000 where !queue.isWaiting { await Task.yield() }
        #expect(queue.isWaiting)
        queue.append(contentsOf: [Self.cutoff("a")])
        #expect(await consumer.value.map(\.callID) == ["a"])
        queue.finish()
        queue.append(contentsOf: [Self.cutoff("b")])
        #expect(await queue.nextBatch().isEmpty)
    }

    @Test("emitting no events does not wake the consumer (an empty batch would end it)")
    func emptyEmit() async {
        let queue = EventQueue()
        let consumer = Task { await queue.nextBatch() }
        for _ in 0..<100_000 where !queue.isWaiting { await Task.yield() }
        #expect(queue.isWaiting)
        queue.append(contentsOf: [])
        queue.append(contentsOf: [Self.cutoff("a")])
        #expect(await consumer.value.map(\.callID) == ["a"])
    }

    @Test("a cancelled consumer gets an empty batch")
    func cancelled() async {
        let queue = EventQueue()
        let consumer = Task { await queue.nextBatch() }
        consumer.cancel()
        #expect(await consumer.value.isEmpty)
    }
}
