import BillingCore
import Ledger
public import HTTPTypes
package import Foundation
public import Hummingbird

/// An API error: a JSON body `{code, message, field?}` with the matching HTTP status.
public struct APIError: Error, Sendable, Hashable, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    /// Extra headers (Retry-After on throttling, WWW-Authenticate on 401).
    public var extraHeaders: [String: String] = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    package static func invalid(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, "INVALID_ARGUMENT", message, field: field)
    }

    package static func notFound(_ message: String, field: String? = nil) -> APIError {
        APIError(.notFound, "NOT_FOUND", message, field: field)
    }

    package static let unauthenticated = APIError(.unauthorized, "UNAUTHENTICATED", "sign in first: send Authorization: Bearer TOKEN")

    package static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "PERMISSION_DENIED", message) }

    /// Maps any error to what the client sees; internal details are not leaked.
    package init(_ error: any Error) {
        switch error {
        case let api as APIError:
            self = api
        case let domain as TollgateError:
            let status: HTTPResponse.Status = switch domain.code {
            case .invalidArgument: .badRequest
            case .notFound: .notFound
            case .alreadyExists: .conflict
            case .failedPrecondition: .conflict
            case .unauthenticated: .unauthorized
            case .resourceExhausted: .tooManyRequests
            case .unavailable: .serviceUnavailable
            case .internal: .internalServerError
            }
            self.init(status, domain.code.rawValue, domain.message, field: domain.field)
        case let money as MoneyError:
            self = .invalid("amount: \(money)", field: "amount")
        case let http as HTTPError:
            let code = switch http.status.code {
            case 404: "NOT_FOUND"
            case 405: "METHOD_NOT_ALLOWED"
            case 413: "PAYLOAD_TOO_LARGE"
            case 400..<500: "INVALID_ARGUMENT"
            default: "INTERNAL"
            }
            self.init(http.status, code, http.body ?? http.status.reasonPhrase)
        case let decoding as DecodingError:
            self = .invalid(Self.describe(decoding), field: Self.field(decoding))
        case LedgerError.writerFailed, LedgerError.writeFailed:
            // The ledger stopped on a failed commit (a full disk): nothing was changed, and the server is stopping.
            self.init(.serviceUnavailable, "UNAVAILABLE", "the ledger cannot write: nothing was changed")
        default:
            self.init(.internalServerError, "INTERNAL", "the server could not complete the request")
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        for (name, value) in extraHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let body = Body(code: code, message: message, field: field)
        let data = try JSONEncoder.api.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private struct Body: Encodable {
        package var code: String
        package var message: String
        package var field: String?
    }

    private static func field(_ error: DecodingError) -> String? {
        let path: [any CodingKey] = switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context): context.codingPath
        @unknown default: []
        }
        var names = path.map(\.stringValue)
        if case .keyNotFound(let key, _) = error { names.append(key.stringValue) }
        return names.isEmpty ? nil : names.joined(separator: ".")
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): "wrong type: expected \(type)"
        case .valueNotFound(let type, _): "missing value: expected \(type)"
        case .keyNotFound(let key, _): "missing field \(key.stringValue)"
        case .dataCorrupted(let context): "malformed JSON: \(context.debugDescription)"
        @unknown default: "malformed JSON"
        }
    }
}

extension JSONEncoder {
    /// Sorted keys, so responses are stable for clients and tests.
    package static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
