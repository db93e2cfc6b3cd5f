package import Foundation

/// Finds an explicit JSON `null` in a request body.
///
/// Every optional field of this API means "leave as it is" when left out. Swift's decoder reads a `null` the
/// same way, so `{"billingEnabled": null}` would change nothing and still answer 200: a client's mistake hidden.
/// The API refuses such bodies instead, naming the field.
package enum ExplicitNulls {
    /// The path of the first `null` (`changes.billingEnabled`, `numbers[2]`), or nil when there is none or the
    /// body is not JSON at all (the decoder then reports that).
    package static func firstPath(in body: Data) -> String? {
        guard let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            return nil
        }
        return firstPath(in: value, at: "")
    }

    private static func firstPath(in value: Any, at path: String) -> String? {
        switch value {
        case is NSNull:
            return path.isEmpty ? "body" : path
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if let found = firstPath(in: object[key]!, at: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = firstPath(in: element, at: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
