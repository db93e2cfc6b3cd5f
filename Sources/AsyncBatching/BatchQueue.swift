public import Synchronization

/// A bounded queue from any number of producers to one consumer, which takes everything queued at once.
///
/// Tollgate's hand-overs (the engine's events to the PBX server, one connection's replies and pushes to its
/// writer, settlements' replies waiting for their commit) all want the same thing: producers that never block
/// on a lock for long, a consumer that writes a whole batch with one system call, a bound, and an end that a
/// cancelled consumer cannot miss. Not an `AsyncStream`: it hands over one element per wake-up, and it is
/// unspecialized in the standard library, so at a million live calls its per-element metadata lookups and
/// locking were a tenth of the server's time. Here a producer appends under one lock and the consumer takes
/// every element queued. The methods are inlinable so each user's element type is specialized.
///
/// - `offer` never suspends: beyond the bound it refuses (a PBX that does not read its pushes is closed).
/// - `send` suspends while the queue is full (a connection's request loop stops reading instead).
/// - `finish` ends it: the consumer still takes what is queued, then an empty batch; later elements are refused.
/// - A consumer cancelled while it waits finishes the queue (as a cancelled `AsyncStream` ends).
public final class BatchQueue<Element: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var items: [Element] = []
        @usableFromInline var consumer: CheckedContinuation<[Element], Never>?
        @usableFromInline var producers = [CheckedContinuation<Bool, Never>]()
        @usableFromInline var finished = false

        @inlinable init() {}

        /// Hands the queued elements over whole. The queue starts a new array rather than keeping the capacity: the
        /// batch still holds the old buffer, so keeping its capacity would copy it into one as large, however few
        /// elements come next.
        @inlinable
        mutating func takeAll() -> [Element] {
            let batch = items
            items = []
            return batch
        }
    }

    @usableFromInline let state = Mutex(State())
    @usableFromInline let bound: Int

    /// A queue holding at most `bound` elements not yet taken.
    @inlinable
    public init(bound: Int = .max) {
        precondition(bound > 0, "a queue must hold at least one element")
        self.bound = bound
    }

    /// Elements queued and not yet taken.
    @inlinable
    public var count: Int { state.withLock { $0.items.count } }

    /// Whether the consumer waits for elements now.
    @inlinable
    public var isConsumerWaiting: Bool { state.withLock { $0.consumer != nil } }

    /// Queues `element` unless the queue is full or finished; never suspends.
    @inlinable
    @discardableResult
    public func offer(_ element: Element) -> Bool {
        offer(contentsOf: CollectionOfOne(element))
    }

    /// Queues all of `elements`, or none of them when they do not fit or the queue is finished. An empty
    /// offer is accepted and wakes nobody (an empty batch is what ends the consumer).
    @inlinable
    @discardableResult
    public func offer(contentsOf elements: some Collection<Element>) -> Bool {
        guard !elements.isEmpty else { return true }
        let (consumer, batch, accepted) = state.withLock { state -> (CheckedContinuation<[Element], Never>?, [Element], Bool) in
            guard !state.finished, state.items.count + elements.count <= bound else { return (nil, [], false) }
            state.items.append(contentsOf: elements)
            guard let consumer = state.consumer else { return (nil, [], true) }
            state.consumer = nil
            return (consumer, state.takeAll(), true)
        }
        consumer?.resume(returning: batch)
        return accepted
    }

    /// Queues `element`, suspending while the queue is full; false (dropped) when the queue is finished.
    @inlinable
    @discardableResult
    public func send(_ element: Element) async -> Bool {
        while true {
            if offer(element) { return true }
            // Full or finished: wait for the consumer to take a batch (or for the end).
            let proceed = await withCheckedContinuation { (producer: CheckedContinuation<Bool, Never>) in
                let decided: Bool? = state.withLock { state in
                    if state.finished { return false }
                    if state.items.count < bound { return true }
                    state.producers.append(producer)
                    return nil
                }
                if let decided { producer.resume(returning: decided) }
            }
            if !proceed { return false }
        }
    }

    /// Every element queued now, in order, waiting for at least one; empty once finished and drained.
    @inlinable
    public func nextBatch() async -> [Element] {
        let batch = await withTaskCancellationHandler {
            await withCheckedContinuation { (consumer: CheckedContinuation<[Element], Never>) in
                let ready = state.withLock { state -> [Element]? in
                    if !state.items.isEmpty { return state.takeAll() }
                    if state.finished { return [] }
                    state.consumer = consumer
                    return nil
                }
                if let ready { consumer.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
        if !batch.isEmpty {
            for producer in takeWaitingProducers() { producer.resume(returning: true) }
        }
        return batch
    }

    /// No more elements: the consumer takes what is queued, then an empty batch; later elements are refused and
    /// waiting producers are released.
    @inlinable
    public func finish() {
        let (consumer, producers) = state.withLock { state -> (CheckedContinuation<[Element], Never>?, [CheckedContinuation<Bool, Never>]) in
            state.finished = true
            defer {
                state.consumer = nil
                state.producers.removeAll()
            }
            return (state.consumer, state.producers)
        }
        consumer?.resume(returning: [])
        for producer in producers { producer.resume(returning: false) }
    }

    /// Producers waiting for room, taken once the consumer has emptied the queue.
    @usableFromInline
    func takeWaitingProducers() -> [CheckedContinuation<Bool, Never>] {
        state.withLock { state in
            defer { state.producers.removeAll() }
            return state.producers
        }
    }
}

extension BatchQueue: AsyncSequence {
    /// The elements one at a time (tests and tools; the consumers in `serve` take batches).
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let queue: BatchQueue
        @usableFromInline var batch: [Element] = []
        @usableFromInline var index = 0

        @inlinable init(queue: BatchQueue) { self.queue = queue }

        @inlinable
        public mutating func next() async -> Element? {
            if index == batch.count {
                batch = await queue.nextBatch()
                index = 0
                if batch.isEmpty { return nil }
            }
            defer { index += 1 }
            return batch[index]
        }
    }

    @inlinable
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
