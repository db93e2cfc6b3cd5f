public import BillingCore
public import Foundation
public import Logging
public import Metering

extension LoadedLedger {
    /// The stored billing policy, or the default when none was saved.
    public func policy() throws -> BillingPolicy {
        try settings[SettingKey.policy].map(SettingsCodec.policy(from:)) ?? BillingPolicy()
    }

    /// The stored rate time zone, UTC when none was saved.
    public var timeZone: TimeZone {
        settings[SettingKey.timeZone].flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
    }
}

extension SQLiteLedger {
    /// Loads the ledger and builds an engine on it: settings, rates, extensions and their open calls restored
    /// (open calls suspended until a PBX claims them or ``MeteringEngine/settleUnclaimed()`` runs).
    public func makeEngine<C: Clock>(clock: C, originEpochMillis: Int64,
                                     logger: Logger = Logger(label: "tollgate.metering")) async throws
        -> MeteringEngine where C.Duration == Duration
    {
        let loaded = try await load()
        let engine = MeteringEngine(
            clock: clock, originEpochMillis: originEpochMillis, journal: self, policy: try loaded.policy(),
            rates: RateTable(rates: loaded.rates), timeZone: loaded.timeZone, logger: logger)
        engine.restore(loaded.accounts, meteredThrough: loaded.meteredThrough, endedCallIDs: loaded.endedCallIDs)
        return engine
    }
}
