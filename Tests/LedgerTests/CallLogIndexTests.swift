import BillingCore
import Foundation
import GRDB
@testable import Ledger
import Metering
import PropertyBased
import Synchronization
import TestSupport
import Testing

/// A ledger at `path` with the given index step, its writer running and the tests' extensions saved.
struct IndexedLedger {
    let ledger: SQLiteLedger
    let writer: Task<Void, Never>

    init(_ path: String, step: Int) async throws {
        let ledger = try SQLiteLedger(path: path, callIndexStep: step)
        self.ledger = ledger
        writer = Task { await ledger.run() }
        var last: UInt64 = 0
        for number in CallLogIndexTests.numbers {
            last = ledger.append(.extensionSaved(ExtensionAccount(number: number, billingEnabled: true)), checkpoint: nil)
        }
        try await ledger.waitCommitted(last)
    }

    /// Queues call `id` (`c` + id), and returns its journal sequence.
    @discardableResult
    func append(_ call: CallLogIndexTests.LoggedCall, id: Int) -> UInt64 {
        ledger.append(.settled(CallLogIndexTests.record(call, id: id), nil), checkpoint: nil)
    }

    /// Logs calls `ids` of the first extension, each authorized at its id plus `offset`, one commit each.
    func log(_ ids: Range<Int>, at offset: Int64 = 0) async throws {
        for id in ids {
            try await ledger.waitCommitted(append(.init(ext: 0, at: Int64(id) + offset, answered: false, flush: false), id: id))
        }
    }

    /// Rows in the index and its watermark, once the indexer has caught up.
    func indexed() async throws -> (rows: Int, through: Int64) {
        await ledger.callIndexCaughtUp()
        return try await ledger.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM call_index.calls_by_extension") ?? -1,
             try Int64.fetchOne(db, sql: "SELECT indexed_through FROM call_index.state") ?? -1)
        }
    }

    func close() async throws {
        try await ledger.close()
        await writer.value
    }
}

@Suite("Ledger: the call log's per-extension index, extended in steps behind the log")
struct CallLogIndexTests {
    static let numbers = ["8100", "8101", "8102", "8103"]

    /// A call written to the log: its extension (index into `numbers`), when it was authorized, whether it was
    /// answered, and whether the writer is flushed after it (so that steps fall between calls).
    struct LoggedCall: Sendable, CustomStringConvertible {
        var ext: Int
        var at: Int64
        var answered: Bool
        var flush: Bool
        var description: String { "(\(ext), \(at)\(answered ? ", answered" : "")\(flush ? ", flush" : ""))" }
    }

    /// A search of one extension's calls.
    struct Search: Sendable, CustomStringConvertible {
        var ext: Int
        var from: Int64?
        var span: Int64
        var limit: Int
        var offset: Int
        var description: String { "(\(ext), from \(from.map(String.init) ?? "-") +\(span), \(limit)@\(offset))" }

        var query: HistoryQuery {
            HistoryQuery(from: from, to: from.map { $0 + span }, extensionNumber: CallLogIndexTests.numbers[ext],
                         limit: limit, offset: offset)
        }
    }

    static let call = zip(Gen.int(in: 0...3), Gen.int64(in: 0...40), Gen.bool(), Gen.bool(0.2))
        .map { LoggedCall(ext: $0, at: $1, answered: $2, flush: $3) }
    static let search = zip(Gen.int(in: 0...3), Gen.int64(in: -1...40), Gen.int64(in: 1...30), Gen.int(in: 1...12),
                            Gen.int(in: 0...6))
        .map { Search(ext: $0, from: $1 < 0 ? nil : $1, span: $2, limit: $3, offset: $4) }
    static let input = zip(call.array(of: 0...60), Gen.int(in: 1...8), search.array(of: 1...8))

    @Test("a search of one extension finds exactly its calls, newest first, whether indexed yet or not")
    func searchesMatchTheLog() async {
        await propertyCheck(count: 60, input: Self.input) { calls, step, searches in
            let directory = try TemporaryDirectory("call-index")
            defer { directory.remove() }
            let h = try await IndexedLedger(directory.file("tollgate.sqlite"), step: step)
            let ledger = h.ledger
            var last: UInt64 = 0
            for (sequence, call) in calls.enumerated() {
                last = h.append(call, id: sequence)
                if call.flush {
                    try await ledger.waitCommitted(last)
                    // Sometimes all of it indexed at once, whatever the step: the searches below must not care.
                    if call.answered { try ledger.indexCallLog() }
                }
            }
            try await ledger.waitCommitted(last)
            for search in searches {
                // The oracle: the calls in log order, filtered and sorted as the call log promises.
                let expected = calls.enumerated()
                    .filter { _, call in
                        call.ext == search.ext && (search.from.map { call.at >= $0 && call.at < $0 + search.span } ?? true)
                    }
                    .sorted { ($0.element.at, $0.offset) > ($1.element.at, $1.offset) }
                    .map { "c\($0.offset)" }
                let page = Array(expected.dropFirst(search.offset).prefix(search.limit))
                #expect(try await ledger.calls(search.query).map(\.callID) == page, "\(search)")
                #expect(try await ledger.callCount(search.query) == expected.count, "\(search)")
                let all = Mutex<[String]>([])
                try await ledger.forEachCall(search.query) { record in all.withLock { $0.append(record.callID) } }
                #expect(all.withLock { $0 } == expected, "\(search)")
                let answered = Mutex<[Int64]>([])
                try await ledger.forEachAnsweredCall(search.query) { at, _, _ in answered.withLock { $0.append(at) } }
                let expectedAnswered = expected.map { calls[Int($0.dropFirst())!] }.filter(\.answered).map(\.at).sorted()
                #expect(answered.withLock { $0 } == expectedAnswered, "\(search)")
            }
            #expect(try await ledger.verify() == [])
            try await h.close()
        }
    }

    @Test("the writer extends the index once a step's worth of calls is waiting, and not before")
    func extendsInSteps() async throws {
        let directory = try TemporaryDirectory("call-index")
        defer { directory.remove() }
        let h = try await IndexedLedger(directory.file("tollgate.sqlite"), step: 10)
        try await h.log(0..<9)
        #expect(try await h.indexed() == (0, 0))
        #expect(h.ledger.callIndexStats.steps == 0)
        try await h.log(9..<10)
        #expect(try await h.indexed() == (10, 10))
        #expect(h.ledger.callIndexStats.steps == 1 && h.ledger.callIndexStats.calls == 10)
        try await h.log(10..<19)
        #expect(try await h.indexed() == (10, 10))
        #expect(try await h.ledger.calls(HistoryQuery(extensionNumber: "8100", limit: 100)).count == 19)
        try await h.close()

        // Reopened with a larger step, the indexer counts the nine waiting calls and goes on from them.
        let reopened = try await IndexedLedger(directory.file("tollgate.sqlite"), step: 12)
        try await reopened.log(19..<22)
        #expect(try await reopened.indexed() == (22, 22))
        #expect(try await reopened.ledger.verify() == [])
        try await reopened.close()
    }

    @Test("an index built from another ledger, or from a log that has since lost calls, is rebuilt")
    func rebuiltForAnotherLedger() async throws {
        let directory = try TemporaryDirectory("call-index")
        defer { directory.remove() }
        let path = directory.file("tollgate.sqlite")
        let index = CallLogIndex.path(ledgerPath: path)
        func open(adding calls: Range<Int>, at offset: Int64 = 0, total: Int) async throws {
            let h = try await IndexedLedger(path, step: 1)
            try await h.log(calls, at: offset)
            #expect(try await h.indexed() == (total, Int64(total)))
            #expect(try await h.ledger.verify() == [])
            #expect(try await h.ledger.callCount(HistoryQuery(extensionNumber: "8100")) == total)
            try await h.close()
        }
        func move(_ from: String, to: String) throws {
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: to + suffix)
                if FileManager.default.fileExists(atPath: from + suffix) {
                    try FileManager.default.copyItem(atPath: from + suffix, toPath: to + suffix)
                }
            }
        }
        try await open(adding: 0..<5, total: 5)
        // Another ledger in the same place (a new install, another site's file) beside the old index.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try await open(adding: 0..<2, total: 2)
        let backup = directory.file("backup.sqlite")
        try move(path, to: backup)
        try await open(adding: 2..<4, total: 4)
        // That ledger restored from before its last two calls: the index is ahead of the log, and the next
        // call takes an id the index gave another call (verify would see its time differ).
        try move(backup, to: path)
        try await open(adding: 2..<3, at: 100, total: 3)
        // An unreadable index file is replaced.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: index))
        try await open(adding: 3..<4, total: 4)
    }

    @Test("a step that fails is tried again after another step's worth of calls, and then takes them all")
    func failedStepRetried() async throws {
        let directory = try TemporaryDirectory("call-index")
        defer { directory.remove() }
        let path = directory.file("tollgate.sqlite")
        let h = try await IndexedLedger(path, step: 5)
        let ledger = h.ledger
        var next = 0
        func log(_ count: Int) async throws {
            try await h.log(next..<next + count)
            next += count
            await ledger.callIndexCaughtUp()
        }
        try await log(5)
        #expect(ledger.callIndexStats.steps == 1 && ledger.callIndexStats.failures == 0)
        // Another connection takes the table away: the next step fails.
        let other = try DatabaseQueue(path: CallLogIndex.path(ledgerPath: path))
        try await other.write { db in try db.execute(sql: "DROP TABLE calls_by_extension") }
        try await log(5)
        #expect(ledger.callIndexStats.steps == 1 && ledger.callIndexStats.failures == 1)
        try await other.write { db in try CallLogIndex.create(db) }
        // Not tried again before another step's worth is waiting: four more calls, nine in all.
        try await log(4)
        #expect(ledger.callIndexStats.steps == 1 && ledger.callIndexStats.failures == 1)
        try await log(1)
        #expect(ledger.callIndexStats.steps == 2 && ledger.callIndexStats.calls == 15)
        #expect(try await ledger.callCount(HistoryQuery(extensionNumber: "8100")) == 10)
        try await h.close()
    }

    @Test("verify reports a call missing from the index and an index row with no call")
    func verifyChecksTheIndex() async throws {
        let directory = try TemporaryDirectory("call-index")
        defer { directory.remove() }
        let h = try await IndexedLedger(directory.file("tollgate.sqlite"), step: 1)
        let ledger = h.ledger
        try await h.log(0..<3)
        await ledger.callIndexCaughtUp()
        #expect(try await ledger.verify() == [])
        try await DatabaseQueue(path: CallLogIndex.path(ledgerPath: directory.file("tollgate.sqlite"))).write { db in
            try db.execute(sql: "DELETE FROM calls_by_extension WHERE id = 2")
            try db.execute(sql: "INSERT INTO calls_by_extension VALUES ('8100', 7, 2)")
        }
        let problems = try await ledger.verify().map(\.message)
        #expect(problems.count == 2)
        #expect(problems.contains { $0.contains("call 2") && $0.contains("not in the per-extension index") })
        #expect(problems.contains { $0.contains("call 2") && $0.contains("no such call") })
        try await h.close()
    }

    @Test("searches read the index backwards and the rest of the log by rowid, never the whole log")
    func searchPlan() async throws {
        let directory = try TemporaryDirectory("call-index")
        defer { directory.remove() }
        let ledger = try SQLiteLedger(path: directory.file("tollgate.sqlite"))
        let query = HistoryQuery(from: 5, to: 50, extensionNumber: "8100", limit: 10)
        let (source, filter, arguments) = query.callSource
        let plan = try await ledger.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM \(source) \(filter) ORDER BY authorized_at DESC, id DESC LIMIT 10",
                             arguments: arguments).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.hasPrefix("SEARCH x USING PRIMARY KEY (extension_number=? AND authorized_at>?") }, "\(plan)")
        #expect(plan.contains { $0.contains("calls USING INTEGER PRIMARY KEY (rowid>?)") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(plan)")
        // The index's part comes in the index's order: only the tail is sorted.
        #expect(plan.filter { $0.contains("TEMP B-TREE") }.count <= 1, "\(plan)")
    }

    static func record(_ call: LoggedCall, id: Int) -> CallRecord {
        CallRecord(
            callID: "c\(id)", extensionNumber: numbers[call.ext], userName: "Room \(call.ext)", dialled: "0100",
            rate: nil, authorizedAt: call.at, answeredAt: call.answered ? call.at + 1 : nil, endedAt: call.at + 2,
            billableMillis: call.answered ? 1000 : 0, cost: .zero, charged: .zero,
            result: call.answered ? .completed : .unanswered, reason: "NORMAL_CLEARING", balanceAfter: .zero)
    }
}
