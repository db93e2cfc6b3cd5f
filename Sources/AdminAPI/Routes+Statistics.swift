import Administration
import Foundation
import Hummingbird

extension AdminAPI {
    func addStatisticsRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.get("/stats") { request, _ in
            try Response.json(try await operations.statistics(
                period: try request.queryChoice("period") ?? "day", at: request.query("at"),
                extension: request.query("extension")))
        }
    }
}
