import Crypto
package import Foundation

/// The device's license request (`billing.ac`): what the vendor signs a license for.
public struct LicenseSource: Codable, Sendable, Hashable {
    public static let format = "tollgate-billing-source-v1"
    public var format: String
    public var deviceFingerprint: String
    public var product: String
    public var version: String
    /// When the file was made, ms since the epoch.
    public var createdAt: Int64

    public init(deviceFingerprint: String, version: String, createdAt: Int64) {
        format = Self.format
        self.deviceFingerprint = deviceFingerprint
        product = License.product
        self.version = version
        self.createdAt = createdAt
    }
}

/// A signed license (`billing.lic`): billing on this device never expires.
public struct License: Codable, Sendable, Hashable {
    public static let format = "tollgate-billing-license-v1"
    public static let product = "tollgate-billing"
    public var format: String
    public var deviceFingerprint: String
    public var product: String
    public var licensee: String
    public var issuedAt: Int64
    /// Ed25519 signature of `signedMessage`, base64.
    public var signature: String

    /// The bytes the vendor signs: every field but the signature, one per line, in a fixed order.
    package var signedMessage: Data {
        Data([format, deviceFingerprint, product, licensee, String(issuedAt)].joined(separator: "\n").utf8)
    }

    /// Signs a license for a device's source file with the vendor's private key (base64 raw key).
    public static func issue(for source: LicenseSource, licensee: String, vendorPrivateKey: String, at: Int64)
        throws -> License
    {
        guard source.format == LicenseSource.format, source.product == product else {
            throw LicenseError("this is not a Tollgate billing source file (billing.ac)")
        }
        guard let raw = Data(base64Encoded: vendorPrivateKey.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw LicenseError("the vendor key must be a base64 Ed25519 private key (tollgate license keygen)") }
        var license = License(format: format, deviceFingerprint: source.deviceFingerprint, product: product,
                              licensee: String(licensee.prefix(200)), issuedAt: at, signature: "")
        license.signature = try key.signature(for: license.signedMessage).base64EncodedString()
        return license
    }

    /// Checks a license for this device against the vendor's public key; throws a clear reason when invalid.
    public func verify(deviceFingerprint expected: String, vendorPublicKey: String) throws {
        guard format == Self.format, product == Self.product else {
            throw LicenseError("not a Tollgate billing license")
        }
        guard let raw = Data(base64Encoded: vendorPublicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { throw LicenseError("the configured vendor public key is not a base64 Ed25519 key") }
        guard let signatureBytes = Data(base64Encoded: signature),
            key.isValidSignature(signatureBytes, for: signedMessage)
        else { throw LicenseError("the license signature is not valid (tampered, or not signed by the vendor)") }
        guard deviceFingerprint == expected else {
            throw LicenseError("this license is for another device")
        }
    }

    /// A new vendor key pair, base64 (private, public).
    public static func makeVendorKeys() -> (privateKey: String, publicKey: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (key.rawRepresentation.base64EncodedString(), key.publicKey.rawRepresentation.base64EncodedString())
    }
}

/// Why a license or source file was refused.
public struct LicenseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
