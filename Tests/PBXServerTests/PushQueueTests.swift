@testable import PBXServer
import Testing

/// A connection's pushes leave in batches, in order, within a bound.
@Suite("Push queue: batches, order, bound, end")
struct PushQueueTests {
    @Test("queued pushes are taken at once, in order; a waiting writer gets the next push at once")
    func batchesInOrder() async {
        let queue = PushQueue(bound: 10)
        #expect(queue.offer([1]))
        #expect(queue.offer([2]))
        #expect(queue.offer([3]))
        #expect(queue.depth == 3)
        #expect(await queue.nextBatch() == [[1], [2], [3]])
        #expect(queue.depth == 0)
        let writer = Task { await queue.nextBatch() }
        await Task.yield()
        // Whether the writer already waits (handed over directly) or not yet (queued), it gets exactly this push.
        #expect(queue.offer([4]))
        #expect(await writer.value == [[4]])
    }

    @Test("beyond the bound a push is refused, and nothing already queued is lost")
    func bound() async {
        let queue = PushQueue(bound: 2)
        #expect(queue.offer([1]))
        #expect(queue.offer([2]))
        #expect(!queue.offer([3]))
        #expect(await queue.nextBatch() == [[1], [2]])
        #expect(queue.offer([3]))
    }

    @Test("finish: what is queued is still taken, then an empty batch; later pushes are refused")
    func finish() async {
        let queue = PushQueue(bound: 4)
        #expect(queue.offer([1]))
        queue.finish()
        #expect(!queue.offer([2]))
        #expect(await queue.nextBatch() == [[1]])
        #expect(await queue.nextBatch().isEmpty)
    }

    @Test("a cancelled writer gets an empty batch and the queue ends")
    func cancelled() async {
        let queue = PushQueue(bound: 4)
        let writer = Task { await queue.nextBatch() }
        writer.cancel()
        #expect(await writer.value.isEmpty)
        #expect(!queue.offer([1]))
    }
}
