import HummingbirdBcrypt
import NIOPosix

/// Password rules, generation and bcrypt hashing (off the cooperative pool: a hash takes ~0.25 s at cost 12).
package enum PasswordPolicy {
    /// bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so they are refused.
    package static func validate(_ password: String) throws {
        guard (10...72).contains(password.utf8.count) else {
            throw APIError.invalid("a password must be 10 to 72 bytes", field: "newPassword")
        }
    }

    /// 16 characters from an alphabet without look-alikes: about 90 bits.
    package static func generate() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet.randomElement(using: &generator)! })
    }

    package static func hash(_ password: String, cost: UInt8) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    package static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
