/// An error with a code that maps onto the wire's status codes and the API's HTTP statuses.
public struct TollgateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; modelled on gRPC's status codes.
    public enum Code: String, Sendable, Hashable, Codable {
        case invalidArgument = "INVALID_ARGUMENT"
        case notFound = "NOT_FOUND"
        case alreadyExists = "ALREADY_EXISTS"
        case failedPrecondition = "FAILED_PRECONDITION"
        case unauthenticated = "UNAUTHENTICATED"
        case resourceExhausted = "RESOURCE_EXHAUSTED"
        case unavailable = "UNAVAILABLE"
        case `internal` = "INTERNAL"
    }

    /// The status code.
    public var code: Code
    /// A message for a human; never contains secrets.
    public var message: String
    /// The input field at fault, when there is one.
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String {
        field.map { "\(code.rawValue): \(message) (\($0))" } ?? "\(code.rawValue): \(message)"
    }

    static func invalid(_ field: String, _ message: String) -> TollgateError {
        TollgateError(.invalidArgument, message, field: field)
    }
}
