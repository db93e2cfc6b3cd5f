import AsyncBatching
import Testing

/// What every hand-over in `serve` relies on: order, whole batches, the bound, the end, cancellation.
@Suite("Batch queue: order, batches, bound, end, cancellation")
struct BatchQueueTests {
    /// Yields until `condition` holds (bounded: a waiting task is parked within a few yields).
    private func until(_ condition: () -> Bool) async {
        for _ in 0..<100_000 where !condition() { await Task.yield() }
    }

    @Test("elements queued meanwhile come in one batch, in order; one at a time through the iterator too")
    func order() async {
        let queue = BatchQueue<Int>()
        queue.offer(1)
        queue.offer(contentsOf: [2, 3])
        #expect(queue.count == 3)
        #expect(await queue.nextBatch() == [1, 2, 3])
        #expect(queue.count == 0)
        queue.offer(contentsOf: [4, 5])
        queue.finish()
        var seen: [Int] = []
        for await element in queue { seen.append(element) }
        #expect(seen == [4, 5])
    }

    @Test("a waiting consumer gets the next elements at once; after finish, nothing more is queued")
    func waitingConsumer() async {
        let queue = BatchQueue<Int>()
        let consumer = Task { await queue.nextBatch() }
        await until { queue.isConsumerWaiting }
        #expect(queue.isConsumerWaiting)
        #expect(queue.offer(1))
        #expect(await consumer.value == [1])
        queue.finish()
        #expect(!queue.offer(2))
        #expect(await queue.nextBatch().isEmpty)
    }

    @Test("an empty offer does not wake the consumer (an empty batch would end it)")
    func emptyOffer() async {
        let queue = BatchQueue<Int>()
        let consumer = Task { await queue.nextBatch() }
        await until { queue.isConsumerWaiting }
        #expect(queue.offer(contentsOf: []))
        #expect(queue.offer(7))
        #expect(await consumer.value == [7])
    }

    @Test("beyond the bound an offer is refused whole, and nothing already queued is lost")
    func bound() async {
        let queue = BatchQueue<Int>(bound: 2)
        #expect(queue.offer(1))
        #expect(!queue.offer(contentsOf: [2, 3]))
        #expect(queue.offer(2))
        #expect(!queue.offer(3))
        #expect(await queue.nextBatch() == [1, 2])
        #expect(queue.offer(3))
    }

    @Test("send waits while the queue is full and goes in once the consumer takes a batch")
    func sendWaitsForRoom() async {
        let queue = BatchQueue<Int>(bound: 1)
        #expect(await queue.send(1))
        let sender = Task { await queue.send(2) }
        // The sender cannot get in before a batch is taken, however long it is given.
        for _ in 0..<1_000 { await Task.yield() }
        #expect(queue.count == 1)
        #expect(await queue.nextBatch() == [1])
        #expect(await sender.value)
        #expect(await queue.nextBatch() == [2])
    }

    @Test("finish: what is queued is still taken, then an empty batch; a waiting sender is released with false")
    func finish() async {
        let queue = BatchQueue<Int>(bound: 1)
        #expect(queue.offer(1))
        let sender = Task { await queue.send(2) }
        for _ in 0..<1_000 { await Task.yield() }
        queue.finish()
        #expect(await sender.value == false)
        #expect(await queue.nextBatch() == [1])
        #expect(await queue.nextBatch().isEmpty)
    }

    @Test("a cancelled consumer gets an empty batch and the queue ends")
    func cancelled() async {
        let queue = BatchQueue<Int>()
        let consumer = Task { await queue.nextBatch() }
        consumer.cancel()
        #expect(await consumer.value.isEmpty)
        #expect(!queue.offer(1))
    }
}
