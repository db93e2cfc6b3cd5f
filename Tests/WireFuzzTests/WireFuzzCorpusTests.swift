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

    @Test("a broken stream ends the session with a reply")
    func brokenStream() async {
        let outcome = await WireFuzzHarness.run([0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        #expect(outcome.closed)
        #expect(outcome.violations.isEmpty)
    }
}
