/// The engine's maps from numbers and call ids to extension actors, under the engine's one lock.
///
/// A type of its own rather than nested in the generic ``MeteringEngine``: nested, it is generic over the clock
/// too, and every lock of it, several per call, looked up `Mutex<Registry<C>>`'s metadata at run time (the
/// engine's code is compiled once for any clock, outside the module that picks one).
struct EngineRegistry {
    var accounts: [String: ExtensionActor] = [:]
    var callOwners: [String: ExtensionActor] = [:]
    var recentlyEnded = RecentIDs(capacity: 65_536)
    /// Restored calls no PBX has claimed yet.
    var unclaimed: [String: Int64] = [:]
}
