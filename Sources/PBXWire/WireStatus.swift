public import BillingCore

/// A reply status as the wire carries it: a gRPC-modelled code, a message and the field at fault.
public struct WireStatus: Sendable, Hashable {
    /// The codes of `StatusCode` in `Proto/tollgate/pbx/v1/pbx.proto`.
    public enum Code: Int, Sendable, Hashable {
        case ok = 0
        case invalidArgument = 3
        case notFound = 5
        case alreadyExists = 6
        case resourceExhausted = 8
        case failedPrecondition = 9
        case `internal` = 13
        case unavailable = 14
        case unauthenticated = 16
    }

    public var code: Code
    public var message: String
    public var field: String

    public init(_ code: Code, _ message: String = "", field: String = "") {
        self.code = code
        self.message = message
        self.field = field
    }

    public static let ok = WireStatus(.ok)

    /// The status for an engine error.
    public init(_ error: TollgateError) {
        let code: Code = switch error.code {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .unauthenticated: .unauthenticated
        case .resourceExhausted: .resourceExhausted
        case .unavailable: .unavailable
        case .internal: .internal
        }
        self.init(code, error.message, field: error.field ?? "")
    }

    static func invalid(_ message: String, field: String = "") -> WireStatus { WireStatus(.invalidArgument, message, field: field) }
    static func unauthenticated(_ message: String) -> WireStatus { WireStatus(.unauthenticated, message) }
    static func failedPrecondition(_ message: String) -> WireStatus { WireStatus(.failedPrecondition, message) }
    static func resourceExhausted(_ message: String) -> WireStatus { WireStatus(.resourceExhausted, message) }

    var proto: Tollgate_Pbx_V1_Status {
        var status = Tollgate_Pbx_V1_Status()
        status.code = Tollgate_Pbx_V1_StatusCode(rawValue: code.rawValue) ?? .internal
        status.message = message
        status.field = field
        return status
    }
}
