import Administration
import Foundation
import Hummingbird

extension AdminAPI {
    func addSettingsRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.get("/settings") { _, _ in try Response.json(try await operations.settings()) }
        api.put("/settings") { request, context in
            let change = try await request.decodeJSON(SettingsView.self)
            return try Response.json(try await operations.updateSettings(change, by: try context.requireSession()))
        }
    }
}
