import BillingCore
import Journal
public import Logging
import Metering
import PBXWire

/// A reply waiting for a commit: encoded already, written once the commit is done, or replaced by an error
/// reply when the commit fails.
public struct DeferredReply: Sendable {
    let payload: [UInt8]
    let commit: JournalCommit
    let correlationID: UInt64

    /// Whether ``reply(logger:)`` would return without waiting.
    public var isResolved: Bool { commit.isResolved }

    /// The reply to write, once the commit is done.
    public func reply(logger: Logger) async -> [UInt8] {
        do {
            try await commit.wait()
        } catch {
            return Self.errorReply(error, correlationID: correlationID, logger: logger)
        }
        return payload
    }

    /// The reply for a request that failed: its status for a ``TollgateError``, UNAVAILABLE (logged) otherwise.
    static func errorReply(_ error: any Error, correlationID: UInt64, logger: Logger) -> [UInt8] {
        if let error = error as? TollgateError {
            return WireReplies.ack(correlationID: correlationID, status: WireStatus(error))
        }
        logger.error("request failed", metadata: .fields([.error: "\(error)"]))
        return WireReplies.ack(correlationID: correlationID,
                               status: WireStatus(.unavailable, "the engine could not apply the request"))
    }
}
