import CLibFuzzer
import Foundation
import WireFuzzing

/// Holds one input's outcome across the hop from libFuzzer's thread to a task and back.
private final class OutcomeBox: @unchecked Sendable {
    var outcome: WireFuzzHarness.Outcome?
}

/// One input through the server's request path; a broken rule aborts, so libFuzzer keeps the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let box = OutcomeBox()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.outcome = await WireFuzzHarness.run(input)
        done.signal()
    }
    done.wait()
    if let violations = box.outcome?.violations, !violations.isEmpty {
        FileHandle.standardError.write(Data("broken rules: \(violations)\n".utf8))
        abort()
    }
    return 0
}

/// The program's entry (SwiftPM links `main` to it): `FuzzWire --write-seeds DIR` writes the seed inputs into
/// DIR; any other arguments are libFuzzer's.
@_cdecl("FuzzWire_main")
public func fuzzWireMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    let arguments = (0..<Int(argc)).map { argv[$0].map { String(cString: $0) } ?? "" }
    if arguments.count == 3, arguments[1] == "--write-seeds" {
        for seed in WireFuzzSeeds.all {
            let url = URL(filePath: arguments[2]).appending(path: "seed-\(seed.name)")
            do { try Data(seed.bytes).write(to: url) } catch {
                FileHandle.standardError.write(Data("cannot write \(url.path): \(error)\n".utf8))
                return 1
            }
        }
        return 0
    }
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &vector, fuzzOne)
}
