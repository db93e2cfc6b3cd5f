import Foundation

/// Renders API JSON for people: a page or a list of objects as a table, an object as "key: value" lines.
enum JSONTable {
    static func render(_ bytes: [UInt8]) -> String {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        if let page = value as? [String: Any], let items = page["items"] as? [[String: Any]] {
            let total = page["total"].map { "\($0)" } ?? "?"
            return table(items) + "\n(\(items.count) of \(total))"
        }
        if let list = value as? [[String: Any]] { return table(list) }
        if let object = value as? [String: Any] {
            return object.keys.sorted().map { key in "\(key): \(cell(object[key]!))" }.joined(separator: "\n")
        }
        return cell(value)
    }

    static func table(_ rows: [[String: Any]]) -> String {
        guard let first = rows.first else { return "(none)" }
        let columns = first.keys.sorted()
        var table = TextTable(headers: columns)
        table.rows = rows.map { row in columns.map { row[$0].map(cell) ?? "" } }
        return table.render()
    }

    static func cell(_ value: Any) -> String {
        switch value {
        case is NSNull: return ""
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return number.boolValue ? "yes" : "no" }
            return number.stringValue
        case let list as [Any]: return list.map(cell).joined(separator: " ")
        case let object as [String: Any]:
            return object.keys.sorted().map { "\($0)=\(cell(object[$0]!))" }.joined(separator: ",")
        default: return "\(value)"
        }
    }
}
