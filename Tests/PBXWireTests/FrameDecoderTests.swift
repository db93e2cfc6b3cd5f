import NIOCore
import NIOTestUtils
@testable import PBXWire
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    func frame(_ bytes: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(bytes)
        return buffer
    }

    @Test("splits frames however the bytes arrive (NIO's decoder verifier)")
    func verifier() throws {
        let payloads: [[UInt8]] = [[], [1], [1, 2, 3], Array(repeating: 7, count: 300)]
        let cases = payloads.map { payload -> (ByteBuffer, [ByteBuffer]) in
            (frame(payload), [ByteBuffer(bytes: payload)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: cases) {
            FrameDecoder(maxFrameBytes: 1_024)
        }
    }

    @Test("a length over the maximum is refused before its payload arrives")
    func oversized() {
        var decoder = FrameDecoder(maxFrameBytes: 1_024)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1_025))
        #expect(throws: FrameError.tooLarge(length: 1_025, max: 1_024)) { try decoder.decode(buffer: &buffer) }
        var huge = ByteBuffer()
        huge.writeInteger(UInt32.max)
        #expect(throws: FrameError.self) { try decoder.decode(buffer: &huge) }
    }

    @Test("a connection closed mid-frame is reported as truncated")
    func truncated() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(10))
        buffer.writeBytes([1, 2, 3])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(throws: FrameError.truncated(bytes: 7)) { try decoder.decodeLast(buffer: &buffer, seenEOF: true) }
    }
}
