import Crypto
import Foundation
import Hummingbird
import Mustache

/// The console's templates and static files, loaded once from the target's resources.
///
/// Templates are Mustache (swift-mustache): `{{value}}` is HTML-escaped, so anything a user or a PBX typed shows
/// as text; the templates never use the unescaped forms except for the server-drawn SVG chart.
struct ConsoleRenderer: Sendable {
    /// A static file with the version that goes in its URL, so it can be cached for a year.
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
        var version: String
    }

    let library: MustacheLibrary
    let assets: [String: Asset]

    init() throws {
        guard let root = Bundle.module.resourceURL else { throw ConsoleError.missingResources }
        var library = MustacheLibrary()
        let templates = root.appendingPathComponent("Templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        self.library = library
        var assets: [String: Asset] = [:]
        let statics = root.appendingPathComponent("Static")
        for name in try FileManager.default.contentsOfDirectory(atPath: statics.path) {
            let bytes = Array(try Data(contentsOf: statics.appendingPathComponent(name)))
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8"
                : name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "image/svg+xml"
            let digest = SHA256.hash(data: bytes).prefix(6).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(bytes: bytes, contentType: type, version: digest)
        }
        self.assets = assets
    }

    /// The versioned URL of a static file.
    func assetPath(_ name: String) -> String { "/static/\(name)?v=\(assets[name]?.version ?? "0")" }

    /// A whole page: the layout around `template`, rendered with `content`.
    func page(_ template: String, title: String, chrome: Chrome, content: Any = [String: String](),
              status: HTTPResponse.Status = .ok) -> Response {
        var chrome = chrome
        chrome.title = title
        chrome.css = assetPath("console.css")
        chrome.script = assetPath("console.js")
        let html = library.render(PageView(chrome: chrome, content: content), withTemplate: template)
            ?? "template \(template) is missing"
        var response = Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: html)))
        if chrome.flash != nil { response.setCookie(Flash.clearing) }
        return response
    }
}

/// What every page's layout shows: who is signed in, the menu, the flash message.
struct Chrome: Sendable {
    var title = ""
    var user: String?
    var isAdmin = false
    var isBilling = false
    var csrf: String?
    var flash: String?
    var flashIsError = false
    var currency = "$"
    var nav: [NavItem] = []
    var css = ""
    var script = ""
}

struct NavItem: Sendable {
    var label: String
    var href: String
    var current: Bool
}

struct PageView: @unchecked Sendable {
    var chrome: Chrome
    var content: Any
}

enum ConsoleError: Error {
    case missingResources
}
