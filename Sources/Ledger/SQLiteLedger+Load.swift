import BillingCore
import Foundation
import GRDB
public import Journal

extension SQLiteLedger {
    /// Reads extensions with their open calls, rates with their assignments, and settings: the state the
    /// engine restores after a start or a crash.
    public func load() async throws -> LoadedLedger {
        try await pool.read { db in
            var callsByExtension: [String: [LiveCallCheckpoint]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM live_calls ORDER BY authorized_at, call_id") {
                callsByExtension[row["extension_number"], default: []].append(try LedgerRows.liveCall(row))
            }
            var accounts: [RestoredAccount] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM extensions ORDER BY number") {
                let account = try LedgerRows.account(row)
                accounts.append(RestoredAccount(
                    account: account, calls: callsByExtension[account.number] ?? [],
                    checkpointAt: row["checkpoint_at"]))
            }
            var assigned: [Int64: Set<String>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT rate_id, extension_number FROM rate_extensions") {
                assigned[row["rate_id"], default: []].insert(row["extension_number"])
            }
            var rates: [Rate] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM rates ORDER BY id") {
                rates.append(try LedgerRows.rate(row, extensions: assigned[row["id"]] ?? []))
            }
            var settings: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") {
                settings[row["key"]] = row["value"] as String
            }
            let meteredThrough = try Int64.fetchOne(db, sql: "SELECT metered_through FROM engine_state WHERE id = 1")
            // Newest first along the rowid; a denied id names no call the engine ever had live.
            let ended = try String.fetchAll(db, sql: "SELECT call_id FROM calls WHERE result <> 'denied' ORDER BY id DESC LIMIT ?",
                                            arguments: [endedCallIDsRemembered])
            let policy = try settings[SettingKey.policy].map(SettingsCodec.policy(from:)) ?? BillingPolicy()
            let timeZone = settings[SettingKey.timeZone].flatMap(TimeZone.init(identifier:))
                ?? TimeZone(identifier: "UTC")!
            return LoadedLedger(accounts: accounts, rates: rates, policy: policy, timeZone: timeZone,
                                meteredThrough: meteredThrough, endedCallIDs: ended.reversed())
        }
    }
}
