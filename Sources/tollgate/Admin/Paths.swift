import Foundation

/// Builds `/api/v1/...` paths with percent-encoded segments and query items.
enum APIPath {
    static func make(_ segments: [String], query: [(String, String?)] = []) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        var path = "/api/v1/" + segments.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }
            .joined(separator: "/")
        var queryAllowed = CharacterSet.urlQueryAllowed
        queryAllowed.remove(charactersIn: "&=+#")
        let items = query.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? $0)" }
        }
        if !items.isEmpty { path += "?" + items.joined(separator: "&") }
        return path
    }
}
