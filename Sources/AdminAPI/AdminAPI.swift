public import Administration
import BillingCore
import Foundation
import HTTPTypes
public import Hummingbird
import Journal
import Ledger
import Metering

/// The administration JSON API under `/api/v1`: billing users and the administrator sign in with a bearer token
/// and manage extensions, rates, recharges, the call log, statistics, settings, live calls, activation and the
/// license. Each route decodes its JSON, calls one ``AdminOperations`` operation and encodes the result; the
/// role a route group needs is checked by ``BearerSessionMiddleware``.
public struct AdminAPI: AdminSurface {
    let operations: AdminOperations

    public init(operations: AdminOperations) { self.operations = operations }

    public func register(on router: Router<AdminRequestContext>) {
        // On the router, not the group: an unknown path under /api/ also gets the JSON error body.
        router.add(middleware: APIErrorMiddleware(pathPrefix: "/api/"))
        let api = router.group("/api/v1")
        addAuthRoutes(api)
        addAdminRoutes(api.group("/admin").add(middleware: BearerSessionMiddleware(operations: operations, role: .admin)))
        let billing = api.group().add(middleware: BearerSessionMiddleware(operations: operations, role: .billing))
        addExtensionRoutes(billing)
        addRechargeRoutes(billing)
        addRateRoutes(billing)
        addCallRoutes(billing)
        addStatisticsRoutes(billing)
        addSettingsRoutes(billing)
        addLiveCallRoutes(billing)
    }
}

/// Admits a request whose `Authorization: Bearer` token opens a session of `role` (nil: either role).
struct BearerSessionMiddleware: RouterMiddleware {
    let operations: AdminOperations
    let role: StoredUser.Role?

    func handle(_ request: Request, context: AdminRequestContext,
                next: (Request, AdminRequestContext) async throws -> Response) async throws -> Response {
        guard let token = request.bearerToken, let session = try await operations.session(token: token) else {
            var error = APIError.unauthenticated
            error.extraHeaders["WWW-Authenticate"] = "Bearer"
            throw error
        }
        try operations.admit(session, role: role)
        var context = context
        context.session = session
        context.sessionToken = token
        return try await next(request, context)
    }
}

extension Request {
    var bearerToken: String? {
        guard let header = headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst(7))
    }
}

/// Turns every error of a request under `pathPrefix` into the API's JSON error body.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let pathPrefix: String

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard request.uri.path.hasPrefix(pathPrefix) else { throw error }
            let apiError = APIError(error)
            if apiError.status == .internalServerError {
                context.logger.error("request failed", metadata: .fields([.path: "\(request.uri.path)", .error: "\(error)"]))
            }
            return try apiError.response(from: request, context: context)
        }
    }
}
