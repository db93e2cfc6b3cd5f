import Foundation
import Hummingbird

/// The fields of a submitted form: `application/x-www-form-urlencoded`, or `multipart/form-data` for the forms
/// that upload a file (a license, a rates CSV).
///
/// The multipart reader is ours: Hummingbird has none, and these two forms need only named parts with their
/// bytes (no streaming, no nested parts), within `maxBytes`.
struct FormFields: Sendable {
    static let maxBytes = 32 << 20

    private(set) var values: [(name: String, value: String)] = []
    private(set) var files: [String: [UInt8]] = [:]

    /// Reads the body (it stays readable for the handler).
    static func read(_ request: inout Request) async throws -> FormFields {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw ConsoleFailure(.contentTooLarge, "The form is over \(maxBytes >> 20) MB.")
        }
        let bytes = Array(buffer.readableBytesView)
        let type = request.headers[.contentType] ?? ""
        if type.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = type.split(separator: ";").lazy.map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.hasPrefix("boundary=") })?.dropFirst("boundary=".count)
            else { throw ConsoleFailure(.badRequest, "The form has no multipart boundary.") }
            return try multipart(bytes, boundary: String(boundary).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        return urlEncoded(String(decoding: bytes, as: UTF8.self))
    }

    static func urlEncoded(_ text: String) -> FormFields {
        var form = FormFields()
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            form.values.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
        return form
    }

    static func multipart(_ body: [UInt8], boundary: String) throws -> FormFields {
        var form = FormFields()
        let delimiter = Array("--\(boundary)".utf8)
        var starts: [Int] = []
        var index = 0
        while let found = find(delimiter, in: body, from: index) {
            starts.append(found)
            index = found + delimiter.count
        }
        guard starts.count >= 2 else { throw ConsoleFailure(.badRequest, "The form's parts could not be read.") }
        for (start, end) in zip(starts, starts.dropFirst()) {
            var partStart = start + delimiter.count
            if body[partStart...].starts(with: [13, 10]) { partStart += 2 }
            var partEnd = end
            if partEnd >= 2, body[partEnd - 2] == 13, body[partEnd - 1] == 10 { partEnd -= 2 }
            guard partStart <= partEnd, let headerEnd = find([13, 10, 13, 10], in: body, from: partStart),
                headerEnd <= partEnd
            else { continue }
            let headers = String(decoding: body[partStart..<headerEnd], as: UTF8.self)
            guard let disposition = headers.split(separator: "\r\n")
                .first(where: { $0.lowercased().hasPrefix("content-disposition:") }),
                let name = parameter("name", in: disposition)
            else { continue }
            let content = Array(body[(headerEnd + 4)..<partEnd])
            if parameter("filename", in: disposition) != nil {
                form.files[name] = content
            } else {
                form.values.append((name, String(decoding: content, as: UTF8.self)))
            }
        }
        return form
    }

    private static func parameter(_ key: String, in header: Substring) -> String? {
        for piece in header.split(separator: ";") {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("\(key)=\"") && trimmed.hasSuffix("\"") {
                return String(trimmed.dropFirst(key.count + 2).dropLast())
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// The first value of a field, trimmed; nil when absent or empty.
    func first(_ name: String) -> String? {
        guard let value = values.first(where: { $0.name == name })?.value.trimmingCharacters(in: .whitespacesAndNewlines),
            !value.isEmpty
        else { return nil }
        return value
    }

    /// Every value of a field (ticked checkboxes), in order, without repeats.
    func all(_ name: String) -> [String] {
        var seen = Set<String>()
        return values.filter { $0.name == name && !$0.value.isEmpty }.map(\.value).filter { seen.insert($0).inserted }
    }

    func has(_ name: String) -> Bool { values.contains { $0.name == name } }

    func file(_ name: String) -> [UInt8]? { files[name].flatMap { $0.isEmpty ? nil : $0 } }
}
