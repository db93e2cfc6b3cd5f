import Crypto
import Foundation

/// This device's identity for licensing: SHA-256 of the machine id, so a license is valid on one machine only.
public enum DeviceFingerprint {
    /// The fingerprint of this machine: from /etc/machine-id (or D-Bus's copy); when neither exists, from a
    /// random id created once beside the license (weaker: copying that folder copies the identity).
    public static func current(licenseDirectory: String) throws -> String {
        for path in ["/etc/machine-id", "/var/lib/dbus/machine-id"] {
            if let id = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                !id.isEmpty
            {
                return of(machineID: id)
            }
        }
        let file = URL(fileURLWithPath: licenseDirectory).appendingPathComponent("device-id")
        if let id = try? String(contentsOf: file, encoding: .utf8), !id.isEmpty { return of(machineID: id) }
        try FileManager.default.createDirectory(atPath: licenseDirectory, withIntermediateDirectories: true)
        let id = SessionStore.randomToken()
        try id.write(to: file, atomically: true, encoding: .utf8)
        return of(machineID: id)
    }

    /// The fingerprint of a machine id (the vendor never sees the id itself).
    public static func of(machineID: String) -> String {
        SHA256.hash(data: Data("tollgate-device-v1|\(machineID)".utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
