import Administration
import AdminClient
import Foundation
import TestSupport
import Testing

@Suite("API: sign-in, roles, activation, trial and license", .timeLimit(.minutes(2)))
struct AuthActivationTests {
    @Test("a new installation: billing off, billing users refused until activation; roles are enforced")
    func rolesAndActivation() async throws {
        let h = try await APIHarness()
        let admin = try #require(try await h.login("admin", adminPassword))
        let status = try object(try await h.client(admin).send("GET", "/api/v1/admin/billing"))
        #expect(status["billingEnabled"] as? Bool == false)
        #expect(status["expiry"] as? String == "Not activated")
        let created = try object(try await h.client(admin).send("POST", "/api/v1/admin/users"))
        let name = try #require(created["name"] as? String)
        #expect(name.hasPrefix("bill-"))
        let password = try #require(created["password"] as? String)
        // Billing is off: the billing user cannot sign in yet.
        let refused = try await h.client().send("POST", "/api/v1/auth/login", body: json(["user": name, "password": password]))
        #expect(refused.status == 403)
        _ = try await h.client(admin).send("PUT", "/api/v1/admin/billing", body: json(["enabled": true]))
        let token = try #require(try await h.login(name, password))
        #expect(try await h.client(token).send("GET", "/api/v1/extensions").status == 200)
        // Roles: the administrator does not do billing work, billing users do not administer.
        #expect(try await h.client(admin).send("GET", "/api/v1/extensions").status == 403)
        #expect(try await h.client(token).send("GET", "/api/v1/admin/users").status == 403)
        #expect(try await h.client().send("GET", "/api/v1/extensions").status == 401)
        #expect(try await h.client("made-up").send("GET", "/api/v1/extensions").status == 401)
        try await h.stop()
    }

    @Test("wrong passwords are refused, and after 5 failures sign-in is throttled for 15 minutes")
    func throttling() async throws {
        let h = try await APIHarness()
        for _ in 0..<5 {
            let reply = try await h.client().send("POST", "/api/v1/auth/login", body: json(["user": "admin", "password": "nope-nope-nope"]))
            #expect(reply.status == 401)
        }
        let throttled = try await h.client().send("POST", "/api/v1/auth/login", body: json(["user": "admin", "password": adminPassword]))
        #expect(throttled.status == 429)
        #expect(throttled.header("Retry-After") != nil)
        await h.advance(ms: 15 * 60_000 + 1)
        #expect(try await h.login("admin", adminPassword) != nil)
        try await h.stop()
    }

    @Test("a user changes the password: old sessions end, the new password works, a short one is refused")
    func passwordChange() async throws {
        let h = try await APIHarness()
        let user = try await h.billingUser()
        let short = try await h.client(user.token).send("POST", "/api/v1/auth/password",
                                                        body: json(["currentPassword": user.password, "newPassword": "short"]))
        #expect(short.status == 400)
        let changed = try await h.client(user.token).send(
            "POST", "/api/v1/auth/password", body: json(["currentPassword": user.password, "newPassword": "a-much-longer-one"]))
        #expect(changed.status == 204)
        #expect(try await h.client(user.token).send("GET", "/api/v1/extensions").status == 401)
        #expect(try await h.login(user.name, user.password) == nil)
        #expect(try await h.login(user.name, "a-much-longer-one") != nil)
        try await h.stop()
    }

    @Test("after the 30-day trial billing users are refused; the admin can still switch billing off; a license makes it permanent")
    func trialAndLicense() async throws {
        let h = try await APIHarness()
        let user = try await h.billingUser()
        await h.advance(ms: 30 * 86_400_000)
        // The session idled out long ago (8 hours); signing in again is refused because the trial is over.
        #expect(try await h.client(user.token).send("GET", "/api/v1/extensions").status == 401)
        let refused = try await h.client().send("POST", "/api/v1/auth/login", body: json(["user": user.name, "password": user.password]))
        #expect(refused.status == 403)
        #expect(try object(refused)["message"] as? String == "the 30-day trial has ended; the administrator installs a license")
        let admin = try #require(try await h.login("admin", adminPassword))
        let expired = try object(try await h.client(admin).send("GET", "/api/v1/admin/billing"))
        #expect(expired["trialExpired"] as? Bool == true)
        #expect(try await h.client(admin).send("PUT", "/api/v1/admin/billing", body: json(["enabled": false])).status == 200)
        _ = try await h.client(admin).send("PUT", "/api/v1/admin/billing", body: json(["enabled": true]))

        let sourceBytes = try await h.client(admin).send("GET", "/api/v1/admin/license/source").body
        let source = try JSONDecoder().decode(LicenseSource.self, from: Data(sourceBytes))
        // Refused: another device, a tampered file, a signature by someone else's key, garbage.
        var other = source
        other.deviceFingerprint = String(repeating: "0", count: 64)
        let forOther = try License.issue(for: other, licensee: "x", vendorPrivateKey: vendorKeys.privateKey, at: t0)
        var tampered = try License.issue(for: source, licensee: "Hotel", vendorPrivateKey: vendorKeys.privateKey, at: t0)
        tampered.licensee = "Someone else"
        let forged = try License.issue(for: source, licensee: "Hotel", vendorPrivateKey: License.makeVendorKeys().privateKey, at: t0)
        for bad in [try JSONEncoder().encode(forOther), try JSONEncoder().encode(tampered), try JSONEncoder().encode(forged),
                    Data("not a license".utf8)] {
            let reply = try await h.client(admin).send("POST", "/api/v1/admin/license", body: Array(bad))
            #expect(reply.status == 422, "\(reply.text)")
            #expect(try object(reply)["code"] as? String == "INVALID_LICENSE")
        }
        #expect(try object(try await h.client(admin).send("GET", "/api/v1/admin/billing"))["licensed"] as? Bool == false)
        let good = try License.issue(for: source, licensee: "Hotel", vendorPrivateKey: vendorKeys.privateKey, at: t0)
        let installed = try object(try await h.client(admin).send("POST", "/api/v1/admin/license",
                                                                   body: Array(try JSONEncoder().encode(good))))
        #expect(installed["expiry"] as? String == "Never Expires")
        #expect(try await h.login(user.name, user.password) != nil)
        try await h.stop()

        // A reset of billing data (the database deleted) keeps the license.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: h.directory.file("tollgate.sqlite" + suffix)) }
        let again = try await APIHarness(directory: h.directory)
        let admin2 = try #require(try await again.login("admin", adminPassword))
        let status = try object(try await again.client(admin2).send("GET", "/api/v1/admin/billing"))
        #expect(status["licensed"] as? Bool == true)
        #expect(status["billingEnabled"] as? Bool == false)
        try await again.stop()
    }

    @Test("sessions survive a restart of serve, stored only as digests; sign-out and a password change end them there too")
    func sessionsSurviveRestart() async throws {
        let h = try await APIHarness()
        let user = try await h.billingUser()
        let other = try #require(try await h.login(user.name, user.password))
        let signedOut = try #require(try await h.login("admin", adminPassword))
        #expect(try await h.client(signedOut).send("POST", "/api/v1/auth/logout").status == 204)
        try await h.stop()
        // The file holds no token, only digests of them.
        let stored = try await h.ledger.sessions(now: t0)
        #expect(!stored.isEmpty && stored.allSatisfy { $0.tokenDigest.count == 64 })
        #expect(!stored.contains { $0.tokenDigest == user.token || $0.tokenDigest == other })

        let again = try await APIHarness(directory: h.directory)
        #expect(try await again.client(user.token).send("GET", "/api/v1/auth/me").status == 200)
        #expect(try await again.client(user.admin).send("GET", "/api/v1/admin/billing").status == 200)
        #expect(try await again.client(signedOut).send("GET", "/api/v1/auth/me").status == 401)
        // A password change ends every session of the user, in the file as well.
        #expect(try await again.client(user.token).send("POST", "/api/v1/auth/password", body: json([
            "currentPassword": user.password, "newPassword": "another-password-2"])).status == 204)
        #expect(try await again.client(other).send("GET", "/api/v1/auth/me").status == 401)
        try await again.stop()
        let third = try await APIHarness(directory: h.directory)
        #expect(try await third.client(other).send("GET", "/api/v1/auth/me").status == 401)
        #expect(try await third.client(user.admin).send("GET", "/api/v1/auth/me").status == 200)
        try await third.stop()
    }
}
