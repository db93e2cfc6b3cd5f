import Foundation
import Ledger
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Ledger: commits run below the request path's priority")
struct CommitPriorityTests {
    #if os(Linux)
    @Test("a batch commits on a thread five nice steps below the thread that opened the ledger")
    func commitThreadIsLowered() async throws {
        let opener = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let h = try await LedgerHarness()
        defer { h.directory.remove() }
        try await h.billed("7001", balance: "3")
        try await h.ledger.flush()
        #expect(await h.ledger.commitThreadNice == min(opener + 5, 19))
        // Nothing about what is stored depends on it.
        #expect(try await h.ledger.verify() == [])
        try await h.close()
    }
    #endif
}
