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
    /// The error underneath, when this one reports another's failure (a file that would not parse, a commit
    /// that failed). It is for logs: replies carry only the code, the message and the field. It takes no part
    /// in equality, so two reports of one failure compare equal.
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, field: String? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.cause = cause
    }

    public var description: String {
        let text = field.map { "\(code.rawValue): \(message) (\($0))" } ?? "\(code.rawValue): \(message)"
        return cause.map { "\(text), caused by: \($0)" } ?? text
    }

    public static func == (lhs: TollgateError, rhs: TollgateError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.field == rhs.field
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
        hasher.combine(field)
    }

    static func invalid(_ field: String, _ message: String) -> TollgateError {
        TollgateError(.invalidArgument, message, field: field)
    }
}
