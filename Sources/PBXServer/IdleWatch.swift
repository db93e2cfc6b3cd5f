import Metering

extension PBXSession {
    /// The session's idle timeout, apart from the session so another task can wait on it.
    public struct IdleWatch: Sendable {
        let activity: ConnectionActivity
        let time: EngineTime

        /// Waits until the connection has been silent for three heartbeat intervals (which also catches a client
        /// that sent half a frame and waits), on the engine's clock; then the close. Nil when cancelled.
        public func expired() async -> Output? {
            while !Task.isCancelled {
                let idleAt = activity.idleAt
                do { try await time.sleep(untilEpochMillis: idleAt) } catch { return nil }
                if time.nowMillis() >= activity.idleAt { return .close(last: nil) }
            }
            return nil
        }
    }

    /// The idle timeout of this session.
    public var idleWatch: IdleWatch { IdleWatch(activity: activity, time: engine.scheduler.time) }
}
