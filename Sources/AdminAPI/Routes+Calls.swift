import Administration
import Foundation
import Hummingbird

extension AdminAPI {
    func addCallRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.get("/calls") { request, _ in
            let query = try request.historyQuery()
            let page = try await operations.calls(query)
            return try Response.json(Page(items: page.items.map(CallView.init), total: page.total, limit: query.limit,
                                          offset: query.offset))
        }
        api.get("/calls/export") { request, _ in
            try await operations.callExport(try request.historyQuery(), format: try request.queryChoice("format") ?? "csv")
        }
    }
}
