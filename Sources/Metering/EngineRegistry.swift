import Journal

/// The engine's maps from numbers and call ids to extension actors, under the engine's one lock.
///
/// A value of its own, so the engine's one lock guards one plain struct and each change of it is one
/// `withLock`.
struct EngineRegistry {
    /// A live call's extension, and where its pushes go.
    struct CallOwner {
        let actor: ExtensionActor
        var route: (any CallRoute)?
    }

    var accounts: [String: ExtensionActor] = [:]
    /// The numbers of `accounts`, sorted, as of the last time a list asked (extensions are only ever added, so the
    /// count tells whether it is current).
    var sortedNumbers: [String] = []
    /// One entry per live call: the PBX server's routing lives here too, so a call costs one map entry and one
    /// lock per change instead of two of each.
    var callOwners: [String: CallOwner] = [:]
    var recentlyEnded = RecentIDs(capacity: endedCallIDsRemembered)
    /// Restored calls no PBX has claimed yet.
    var unclaimed: [String: Int64] = [:]
    /// From a restore until the restored calls are settled: a resync may claim calls the restart lost.
    var acceptsLostCalls = false
}
