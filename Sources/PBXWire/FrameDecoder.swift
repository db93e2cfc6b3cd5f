public import NIOCore

/// Splits the byte stream into frames: a 4-byte big-endian length, then that many bytes of one envelope.
///
/// The length is checked against the maximum before any payload is awaited, so an absurd length is refused at
/// once instead of making the server buffer it.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int = FrameLimits.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= maxFrameBytes else { throw FrameError.tooLarge(length: Int(length), max: maxFrameBytes) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 {
            let left = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: left)
            throw FrameError.truncated(bytes: left)
        }
        return nil
    }
}

/// Frame size limits.
public enum FrameLimits {
    /// 64 KiB: far above any real message (an Authorize is under 100 bytes), small enough to refuse floods.
    public static let defaultMaxFrameBytes = 65_536
}

/// Why the byte stream could not be split into frames. Either way the stream cannot be trusted any more.
public enum FrameError: Error, Hashable, CustomStringConvertible {
    case tooLarge(length: Int, max: Int)
    case truncated(bytes: Int)

    public var description: String {
        switch self {
        case .tooLarge(let length, let max): "frame of \(length) bytes is over the maximum of \(max)"
        case .truncated(let bytes): "connection closed in the middle of a frame (\(bytes) bytes)"
        }
    }
}

extension ByteBuffer {
    /// Appends one frame: the payload's length as a big-endian UInt32, then the payload.
    public mutating func writeFrame(_ payload: some Collection<UInt8>) {
        writeInteger(UInt32(payload.count))
        writeBytes(payload)
    }

    /// A buffer holding exactly one frame of `payload`.
    public init(frame payload: some Collection<UInt8>) {
        self.init()
        reserveCapacity(payload.count + 4)
        writeFrame(payload)
    }
}
