package import Foundation
import Ledger
import Metering
import Synchronization

/// Billing activation, the 30-day trial and the license.
///
/// Billing is off on a new installation. The first switch-on starts the trial; after it, billing users
/// cannot sign in unless a valid license is installed. The administrator can always switch billing off.
/// The license is a file in its own directory, outside the billing database, so a reset of billing data
/// keeps it.
package final class Activation: Sendable {
    package static let activatedAtKey = "billing_activated_at"
    package static let trialMillis: Int64 = 30 * 86_400_000

    package struct Status: Codable, Sendable, Hashable {
        package var billingEnabled: Bool
        /// First activation, ms since the epoch; nil when never activated.
        package var activatedAt: Int64?
        package var trialEndsAt: Int64?
        package var licensed: Bool
        /// "Never Expires" with a license, else the trial's end (ISO 8601, UTC), else "Not activated".
        package var expiry: String
        package var trialExpired: Bool
        package var deviceFingerprint: String
    }

    package let licenseDirectory: String
    package let vendorPublicKey: String
    package let fingerprint: String
    private let state: Mutex<(activatedAt: Int64?, license: License?)>

    package init(licenseDirectory: String, vendorPublicKey: String, activatedAt: Int64?) throws {
        self.licenseDirectory = licenseDirectory
        self.vendorPublicKey = vendorPublicKey
        fingerprint = try DeviceFingerprint.current(licenseDirectory: licenseDirectory)
        var installed: License?
        if let data = try? Data(contentsOf: Self.licenseURL(licenseDirectory)),
            let license = try? JSONDecoder().decode(License.self, from: data),
            (try? license.verify(deviceFingerprint: fingerprint, vendorPublicKey: vendorPublicKey)) != nil
        {
            installed = license
        }
        state = Mutex((activatedAt, installed))
    }

    package static func licenseURL(_ directory: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent("billing.lic")
    }

    package var activatedAt: Int64? { state.withLock { $0.activatedAt } }
    package var license: License? { state.withLock { $0.license } }

    package func status(billingEnabled: Bool, now: Int64) -> Status {
        let (activatedAt, license) = state.withLock { ($0.activatedAt, $0.license) }
        let trialEnds = activatedAt.map { $0 + Self.trialMillis }
        let expiry: String = if license != nil {
            "Never Expires"
        } else if let trialEnds {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(trialEnds / 1000)))
        } else {
            "Not activated"
        }
        return Status(billingEnabled: billingEnabled, activatedAt: activatedAt, trialEndsAt: trialEnds,
                      licensed: license != nil, expiry: expiry,
                      trialExpired: license == nil && (trialEnds.map { now >= $0 } ?? false),
                      deviceFingerprint: fingerprint)
    }

    /// Why billing users may not work now, or nil when they may.
    package func billingUsersRefusal(billingEnabled: Bool, now: Int64) -> String? {
        let status = status(billingEnabled: billingEnabled, now: now)
        if !status.billingEnabled { return "billing is not activated; the administrator switches it on" }
        if status.trialExpired { return "the 30-day trial has ended; the administrator installs a license" }
        return nil
    }

    /// Records the first activation; later activations keep the first time.
    package func markActivated(at now: Int64) -> Bool {
        state.withLock { state in
            guard state.activatedAt == nil else { return false }
            state.activatedAt = now
            return true
        }
    }

    /// The device's license request file.
    package func source(version: String, now: Int64) -> LicenseSource {
        LicenseSource(deviceFingerprint: fingerprint, version: version, createdAt: now)
    }

    /// Verifies and installs a license; the file is written (atomically) before it takes effect.
    package func install(_ bytes: [UInt8]) throws -> License {
        let license: License
        do {
            license = try JSONDecoder().decode(License.self, from: Data(bytes))
        } catch {
            throw LicenseError("the file is not a Tollgate license (billing.lic)")
        }
        try license.verify(deviceFingerprint: fingerprint, vendorPublicKey: vendorPublicKey)
        try FileManager.default.createDirectory(atPath: licenseDirectory, withIntermediateDirectories: true)
        try Data(bytes).write(to: Self.licenseURL(licenseDirectory), options: .atomic)
        state.withLock { $0.license = license }
        return license
    }
}
