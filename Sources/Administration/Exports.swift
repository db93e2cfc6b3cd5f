package import BillingCore
package import Hummingbird

/// One cell of an exported table.
package enum ExportCell: Sendable, Hashable {
    case text(String)
    case integer(Int64)
    /// Written as an exact decimal number, never through floating point.
    case money(Money)
}

/// CSV and XLSX downloads of the call log and the recharge history.
package enum Exports {
    /// The most rows one download holds (an XLSX sheet holds 1,048,576).
    package static let maxRows = 1_000_000

    package static let callHeader = ["Time", "Extension", "User", "Dialled", "Rate prefix", "Answered", "Ended",
                             "Billable seconds", "Cost", "Result", "Reason", "Balance after", "Call id"]
    package static let rechargeHeader = ["Time", "Extension", "User", "Kind", "Balance before", "Amount", "Balance after",
                                 "Operator", "Note"]

    package static func response(format: String, name: String, header: [String], rows: [[ExportCell]]) throws -> Response {
        switch format {
        case "csv":
            return .download(Array(CSVWriter.document(header: header, rows: rows).utf8),
                             contentType: "text/csv; charset=utf-8", fileName: "\(name).csv")
        case "xlsx":
            return .download(try XLSXWriter.workbook(sheetName: name, header: header, rows: rows),
                             contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             fileName: "\(name).xlsx")
        default:
            throw APIError.invalid("format must be json, csv or xlsx", field: "format")
        }
    }
}

/// RFC 4180 CSV text.
package enum CSVWriter {
    package static func document(header: [String], rows: [[ExportCell]]) -> String {
        var out = line(header)
        for row in rows {
            out += line(row.map { cell in
                switch cell {
                case .text(let text): text
                case .integer(let value): String(value)
                case .money(let money): money.decimalString
                }
            })
        }
        return out
    }

    package static func line(_ fields: [String]) -> String { fields.map(escape).joined(separator: ",") + "\r\n" }

    /// Quotes fields that need it; a field a spreadsheet would run as a formula (CSV injection) is prefixed
    /// with ' (``needsFormulaGuard(_:)``).
    package static func escape(_ field: String) -> String {
        var value = field
        if needsFormulaGuard(value) { value = "'" + value }
        // Scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard value.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            return value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A leading =, + , - or @ (numbers such as -1.50 aside), or 's before such a field: the second case keeps
    /// the guard reversible, so that ``unguarded(_:)`` gives back exactly what was exported. One pass over the
    /// leading 's: an imported field may hold millions of them.
    package static func needsFormulaGuard<Text: StringProtocol>(_ value: Text) -> Bool {
        let rest = value.drop { $0 == "'" }
        guard let first = rest.first, "=+-@".contains(first) else { return false }
        return (try? Money(parsing: String(rest))) == nil
    }

    /// A field as it was before ``escape(_:)`` guarded it (for imports of our own exports).
    package static func unguarded(_ value: String) -> String {
        value.first == "'" && needsFormulaGuard(value.dropFirst()) ? String(value.dropFirst()) : value
    }
}
