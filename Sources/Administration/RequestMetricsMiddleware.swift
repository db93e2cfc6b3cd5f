import Hummingbird

/// Counts and times every answered request under the route pattern it matched (`/api/v1/extensions/{number}`,
/// not the number), for `tollgate_http_requests_total` and `tollgate_http_request_duration_seconds`.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let metrics: APIMetrics

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.httpRequest(route: route, method: method, status: response.status.code,
                                nanoseconds: Self.nanoseconds(since: started))
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.httpRequest(route: route, method: method, status: status,
                                nanoseconds: Self.nanoseconds(since: started))
            throw error
        }
    }

    private static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }
}
