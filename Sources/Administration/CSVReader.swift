/// An RFC 4180 reader that remembers each record's line number, so an import can say which line is wrong.
///
/// Hand-written (about 40 lines) because the CSV packages at hand do not report source line numbers.
package enum CSVReader {
    package struct Record: Sendable, Hashable {
        package var line: Int
        package var fields: [String]
    }

    package struct Failure: Error, Sendable, Hashable {
        package var line: Int
        package var message: String
    }

    package static func records(_ text: String) throws(Failure) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        func finishRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
            field = ""
        }
        while let scalar = pending {
            pending = iterator.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        quoted = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                fields.append(field)
                field = ""
            case "\r": if pending != "\n" { line += 1; finishRecord(); recordLine = line }
            case "\n":
                line += 1
                finishRecord()
                recordLine = line
            default: field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw Failure(line: recordLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty { finishRecord() }
        return records
    }
}
