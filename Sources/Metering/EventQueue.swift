public import BillingCore
import Synchronization

/// The engine's cutoffs, warnings and grant renewals on their way to one consumer (the PBX server), in the order
/// each extension made them, taken in batches.
///
/// Not an `AsyncStream`: the standard library leaves it unspecialized, so each yield and each take looked up
/// generic metadata and took its lock, one event at a time; holding a million calls (some 33,000 grant renewals
/// a second) that and its lock's contention were a tenth of the server's time. Here an emit appends under one
/// lock and the consumer takes everything queued at once.
public final class EventQueue: Sendable {
    private struct State {
        var items: [BillingEvent] = []
        var reader: CheckedContinuation<[BillingEvent], Never>?
        var finished = false
    }

    private let state = Mutex(State())

    init() {}

    /// Whether the consumer waits for events now.
    var isWaiting: Bool { state.withLock { $0.reader != nil } }

    func append(contentsOf events: [BillingEvent]) {
        // An empty batch is what ends the consumer: nothing to hand over must not wake it.
        guard !events.isEmpty else { return }
        let reader = state.withLock { state -> CheckedContinuation<[BillingEvent], Never>? in
            guard !state.finished else { return nil }
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            state.items.append(contentsOf: events)
            return nil
        }
        reader?.resume(returning: events)
    }

    /// Every event queued now, in order (waits for at least one); empty once finished and drained. Cancelling
    /// the consumer ends the queue, as it ends an `AsyncStream`: later events are dropped.
    public func nextBatch() async -> [BillingEvent] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (reader: CheckedContinuation<[BillingEvent], Never>) in
                let ready = state.withLock { state -> [BillingEvent]? in
                    if !state.items.isEmpty {
                        let items = state.items
                        state.items = []
                        return items
                    }
                    if state.finished { return [] }
                    state.reader = reader
                    return nil
                }
                if let ready { reader.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }

    /// No more events: the consumer drains what is queued, then gets an empty batch.
    func finish() {
        let reader = state.withLock { state -> CheckedContinuation<[BillingEvent], Never>? in
            state.finished = true
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume(returning: [])
    }
}

extension EventQueue: AsyncSequence {
    /// The events one at a time (tests and tools; the PBX server takes batches).
    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: EventQueue
        var batch: [BillingEvent] = []
        var index = 0

        public mutating func next() async -> BillingEvent? {
            if index == batch.count {
                batch = await queue.nextBatch()
                index = 0
                if batch.isEmpty { return nil }
            }
            defer { index += 1 }
            return batch[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
