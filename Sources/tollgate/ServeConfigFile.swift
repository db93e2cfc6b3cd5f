import Configuration
import Foundation
import SystemPackage
import Yams

/// The config file `serve --config FILE` reads (YAML; JSON is YAML too): a flat mapping of the settings' keys to
/// scalar values. A key that is no setting (a typo) or a value that is not a scalar stops the start, naming the
/// line, since a setting silently ignored is a setting the operator believes is in force.
enum ServeConfigFile {
    /// The checked file as a swift-configuration provider.
    static func provider(path: String) async throws -> any ConfigProvider {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServeSettings.Problem(description: "config file \(path): cannot read it: \(error.localizedDescription)")
        }
        // A file of comments only sets nothing; YAMLSnapshot wants a mapping at the top.
        guard try check(text, path: path) else { return InMemoryProvider(name: path, values: [:]) }
        do {
            return try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
        } catch {
            throw ServeSettings.Problem(description: "config file \(path): \(error)")
        }
    }

    /// Throws for what the provider would accept but we refuse: unknown keys, nested values, empty values.
    /// Returns whether the file sets anything.
    @discardableResult
    static func check(_ text: String, path: String) throws -> Bool {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ServeSettings.Problem(description: "config file \(path): not valid YAML: \(error)")
        }
        guard let root else { return false }
        guard let mapping = root.mapping else {
            throw ServeSettings.Problem(description: "config file \(path): must be a mapping of setting: value")
        }
        let known = Set(ServeSetting.allCases.map(\.rawValue))
        for (key, value) in mapping {
            let line = key.mark.map { "line \($0.line)" } ?? "a line"
            guard let name = key.string, known.contains(name) else {
                throw ServeSettings.Problem(description: "config file \(path), \(line): \"\(key.string ?? "?")\" is "
                    + "not a setting; the settings are " + ServeSetting.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let scalar = value.scalar, !(scalar.string.isEmpty && scalar.style == .plain) else {
                throw ServeSettings.Problem(description: "config file \(path), \(line): \(name) needs one value "
                    + "(a word, a number or a quoted string); leave it out to use the default")
            }
        }
        return true
    }
}
