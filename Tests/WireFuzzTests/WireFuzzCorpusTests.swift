import Foundation
import Testing
import WireFuzzing

/// Replays the wire fuzzer's committed inputs (`Fuzz/corpus/wire`: seeds, and every input that once broke a
/// rule or crashed, kept as regressions) through the same harness, so `swift test` checks them without libFuzzer.
@Suite("Wire fuzzer corpus, replayed")
struct WireFuzzCorpusTests {
    static let corpus = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Fuzz/corpus/wire")

    static func inputs() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("the committed corpus is there")
    func corpusPresent() throws {
        #expect(try Self.inputs().count >= WireFuzzSeeds.all.count)
    }

    @Test("every committed input keeps every rule")
    func replay() async throws {
        for url in try Self.inputs() {
            let outcome = await WireFuzzHarness.run(Array(try Data(contentsOf: url)))
            #expect(outcome.violations.isEmpty, "\(url.lastPathComponent): \(outcome.violations)")
        }
    }

    @Test("each seed reaches the engine and is answered", arguments: WireFuzzSeeds.all.map(\.name))
    func seed(_ name: String) async throws {
        let seed = try #require(WireFuzzSeeds.all.first { $0.name == name })
        let outcome = await WireFuzzHarness.run(seed.bytes)
        #expect(outcome.violations.isEmpty, "\(outcome.violations)")
        #expect(outcome.dispatched >= seed.requests)
        #expect(!outcome.closed)
    }

    @Test("the seeds bill what the tariff says: cut at the credit, a connection fee and a first minute")
    func seedsBill() async throws {
        func outcome(_ name: String) async throws -> WireFuzzHarness.Outcome {
            await WireFuzzHarness.run(try #require(WireFuzzSeeds.all.first { $0.name == name }).bytes)
        }
        // 101 has 0.05 and 0.10 of credit at 0.02 a second: 7 whole seconds, 0.14, then the cut.
        let cut = try await outcome("call-cut-at-credit")
        #expect(cut.settled == 1 && cut.settledMicros == 140_000)
        // 0.10 for the connection and the first 60 s, then 0.60 for the started minute: 61 s cost 0.70.
        let minute = try await outcome("per-minute-with-connection-fee")
        #expect(minute.settled == 1 && minute.settledMicros == 700_000)
        // Lost by a restart and claimed again: l1 answered 4 s before the resync, and the 10 s the clock moved
        // since are billed up to the 7 s 101 can pay (0.14); l3 rang, then 5 s of a per-minute call (0.10 + 0).
        let lost = try await outcome("resync-after-restart")
        #expect(lost.settled == 2 && lost.settledMicros == 140_000 + 100_000)
        // Ended while the server was down: g1's 3 s at 0.02 a second (0.06), g2 never answered; g3 is locked.
        let ended = try await outcome("ends-of-calls-a-restart-lost-whole")
        #expect(ended.settled == 2 && ended.settledMicros == 60_000)
    }

    @Test("a broken stream ends the session with a reply")
    func brokenStream() async {
        let outcome = await WireFuzzHarness.run([0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        #expect(outcome.closed)
        #expect(outcome.violations.isEmpty)
    }
}
