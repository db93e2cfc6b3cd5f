import Administration
import Foundation
import Hummingbird
import Ledger

extension AdminAPI {
    struct LoginRequest: Decodable { var user: String; var password: String }
    struct LoginReply: Encodable { var token: String; var user: String; var role: StoredUser.Role; var expiresAt: Int64 }
    struct PasswordChange: Decodable { var currentPassword: String; var newPassword: String }
    struct Me: Encodable { var user: String; var role: StoredUser.Role; var expiresAt: Int64 }

    func addAuthRoutes(_ api: RouterGroup<AdminRequestContext>) {
        api.post("/auth/login") { request, _ in
            let login = try await request.decodeJSON(LoginRequest.self)
            let (token, session) = try await operations.signIn(user: login.user, password: login.password)
            return try Response.json(LoginReply(token: token, user: session.user, role: session.role,
                                                expiresAt: session.expiresAt))
        }
        api.post("/auth/logout") { request, _ in
            if let token = request.bearerToken { try await operations.signOut(token: token) }
            return Response(status: .noContent)
        }
        let signedIn = api.group("/auth").add(middleware: BearerSessionMiddleware(operations: operations, role: nil))
        signedIn.get("/me") { _, context in
            let session = try context.requireSession()
            return try Response.json(Me(user: session.user, role: session.role, expiresAt: session.expiresAt))
        }
        signedIn.post("/password") { request, context in
            let change = try await request.decodeJSON(PasswordChange.self)
            try await operations.changePassword(try context.requireSession(), current: change.currentPassword,
                                                new: change.newPassword)
            return Response(status: .noContent)
        }
    }
}
