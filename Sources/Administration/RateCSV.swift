package import BillingCore

/// The rate table as CSV: one rate per line, with this header.
///
/// `id` may be empty on import (a new id is given); `active` is true/false; money columns are decimals with at
/// most six places; times are HH:MM or HH:MM:SS (start = end: all day); `extensions` is space-separated.
package enum RateCSV {
    package static let header = ["id", "active", "remarks", "prefix", "number_length", "initial_cost", "initial_time", "rate",
                         "unit", "start_time", "end_time", "extensions"]

    package struct LineError: Codable, Sendable, Hashable {
        package var line: Int
        package var message: String
    }

    package static func export(_ rates: [Rate]) -> String {
        var out = CSVWriter.line(header)
        for rate in rates.sorted(by: { $0.id < $1.id }) {
            out += CSVWriter.line([
                String(rate.id), rate.active ? "true" : "false", rate.remarks, rate.prefix, String(rate.numberLength),
                rate.tariff.initialCost.decimalString, String(rate.tariff.initialTime), rate.tariff.rate.decimalString,
                String(rate.tariff.unit), TimeBlock.format(secondOfDay: rate.block.start),
                TimeBlock.format(secondOfDay: rate.block.end), rate.extensions.sorted().joined(separator: " "),
            ])
        }
        return out
    }

    /// Parses and validates every line; returns the rates (ids nil where the file left them empty) or every
    /// bad line with its reason.
    package static func parse(_ text: String) -> Result<[(id: Int64?, rate: Rate)], ImportFailure> {
        let records: [CSVReader.Record]
        do {
            records = try CSVReader.records(text)
        } catch {
            return .failure(ImportFailure(errors: [LineError(line: error.line, message: error.message)]))
        }
        guard let first = records.first else {
            return .failure(ImportFailure(errors: [LineError(line: 1, message: "the file is empty")]))
        }
        let names = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard names == header else {
            return .failure(ImportFailure(errors: [LineError(line: first.line, message: "the header must be: \(header.joined(separator: ","))")]))
        }
        guard records.count <= 100_001 else {
            return .failure(ImportFailure(errors: [LineError(line: 1, message: "at most 100,000 rates per import")]))
        }
        var rates: [(Int64?, Rate)] = []
        var errors: [LineError] = []
        var seen: [Int64: Int] = [:]
        for record in records.dropFirst() {
            do {
                let (id, rate) = try parse(record.fields)
                if let id {
                    if let earlier = seen[id] {
                        throw TollgateError(.invalidArgument, "id \(id) is also on line \(earlier)", field: "id")
                    }
                    seen[id] = record.line
                }
                rates.append((id, rate))
            } catch {
                let message = (error as? TollgateError).map { e in e.field.map { "\($0): \(e.message)" } ?? e.message }
                    ?? "\(error)"
                errors.append(LineError(line: record.line, message: message))
            }
        }
        return errors.isEmpty ? .success(rates) : .failure(ImportFailure(errors: Array(errors.prefix(1_000))))
    }

    private static func parse(_ fields: [String]) throws -> (Int64?, Rate) {
        guard fields.count == header.count else {
            throw TollgateError(.invalidArgument, "expected \(header.count) columns, found \(fields.count)")
        }
        let f = fields.map { $0.trimmingCharacters(in: .whitespaces) }
        func integer(_ index: Int) throws -> Int {
            guard let value = Int(f[index]) else {
                throw TollgateError(.invalidArgument, "must be a whole number", field: header[index])
            }
            return value
        }
        func money(_ index: Int) throws -> Money {
            do { return try Money(parsing: f[index]) } catch {
                throw TollgateError(.invalidArgument, "\(error)", field: header[index], cause: error)
            }
        }
        var id: Int64?
        if !f[0].isEmpty {
            guard let value = Int64(f[0]), value > 0 else { throw TollgateError(.invalidArgument, "must be a positive integer", field: "id") }
            id = value
        }
        let active: Bool = switch f[1].lowercased() {
        case "true", "1", "yes": true
        case "false", "0", "no": false
        default: throw TollgateError(.invalidArgument, "must be true or false", field: "active")
        }
        let view = RateView(
            id: id, active: active, remarks: CSVWriter.unguarded(f[2]), prefix: f[3], numberLength: try integer(4),
            initialCost: MoneyText(try money(5)), initialTime: try integer(6), rate: MoneyText(try money(7)),
            unit: try integer(8), startTime: f[9].isEmpty ? nil : f[9], endTime: f[10].isEmpty ? nil : f[10],
            extensions: f[11].split(separator: " ").map(String.init))
        return (id, try view.rate(id: id ?? 0))
    }

    /// Every bad line of an import.
    package struct ImportFailure: Error, Codable, Sendable, Hashable {
        package var errors: [LineError]
    }
}
