package import BillingCore
package import Foundation
package import Hummingbird
package import Ledger

/// Largest JSON body the API reads: a bulk edit of 10,000 extensions fits, a flood does not.
package let maxJSONBodyBytes = 4 << 20

extension Response {
    /// A JSON response with sorted keys.
    package static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder.api.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A file download.
    package static func download(_ bytes: [UInt8], contentType: String, fileName: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentDisposition] = "attachment; filename=\"\(fileName)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension Request {
    /// Decodes a JSON body; malformed JSON and wrong types are a 400 naming the field.
    package func decodeJSON<T: Decodable>(_ type: T.Type) async throws -> T {
        var copy = self
        let buffer: ByteBuffer
        do {
            buffer = try await copy.collectBody(upTo: maxJSONBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "PAYLOAD_TOO_LARGE", "the body is over \(maxJSONBodyBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIError.invalid("a JSON body is required") }
        let body = Data(buffer.readableBytesView)
        if let path = ExplicitNulls.firstPath(in: body) {
            throw APIError.invalid("\(path) must not be null: leave a field out to keep it as it is", field: path)
        }
        return try JSONDecoder().decode(T.self, from: body)
    }

    /// The raw body, up to `limit` bytes.
    package func bodyBytes(limit: Int) async throws -> [UInt8] {
        var copy = self
        do {
            return Array(try await copy.collectBody(upTo: limit).readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "PAYLOAD_TOO_LARGE", "the body is over \(limit) bytes")
        }
    }

    /// A query parameter, if present and not empty.
    package func query(_ name: String) -> String? {
        guard let value = uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// A query parameter naming one of a set of choices (`format`, `status`, `period`...): nil when absent; given
    /// empty, it is refused rather than read as absent. The caller refuses values outside its set.
    package func queryChoice(_ name: String) throws -> String? {
        guard let value = uri.queryParameters.get(name) else { return nil }
        guard !value.isEmpty else { throw APIError.invalid("\(name) must not be empty", field: name) }
        return value
    }

    /// An integer query parameter within a range.
    package func query(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        // Present but empty (`offset=`) is a mistake to report, not a request for the default.
        guard let text = uri.queryParameters.get(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.invalid("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)",
                                   field: name)
        }
        return value
    }

    /// A boolean query parameter (`true`/`false`).
    package func queryBool(_ name: String) throws -> Bool? {
        guard let text = try queryChoice(name) else { return nil }
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.invalid("\(name) must be true or false", field: name)
        }
    }

    /// The time block, keyword, extension and paging of a history search (call log, recharges).
    package func historyQuery() throws -> HistoryQuery {
        try HistoryQuery(
            from: try queryTime("from"), to: try queryTime("to"), keyword: query("keyword"),
            extensionNumber: query("extension"), limit: try query("limit", in: 1...10_000, default: 100),
            offset: try query("offset", in: 0...Int(Int32.max), default: 0)).validated()
    }

    /// A time query parameter: ms since the epoch, or an ISO 8601 date or date-time.
    package func queryTime(_ name: String) throws -> Int64? {
        guard let text = query(name) else { return nil }
        guard let millis = APITime.parse(text) else {
            throw APIError.invalid("\(name) must be ms since the epoch or an ISO 8601 time", field: name)
        }
        return millis
    }
}

/// Money in JSON: a decimal string with at most six decimals ("12.50"), never a float.
package struct MoneyText: Codable, Sendable, Hashable {
    package var money: Money

    package init(_ money: Money) { self.money = money }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let text = try? container.decode(String.self) else {
            throw DecodingError.typeMismatch(String.self, .init(
                codingPath: decoder.codingPath,
                debugDescription: "money is a decimal string such as \"12.50\", never a JSON number"))
        }
        do {
            money = try Money(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(money.decimalString)
    }
}

/// Times in the API: ms since the Unix epoch in JSON; ISO 8601 accepted in queries.
package enum APITime {
    package static func parse(_ text: String) -> Int64? {
        if let millis = Int64(text), millis >= 0, millis < 32_503_680_000_000 { return millis }
        let withTime = ISO8601DateFormatter()
        if let date = withTime.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if let date = dateOnly.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        return nil
    }

    /// ISO 8601 in a time zone, for exports.
    package static func format(_ millis: Int64, in zone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
