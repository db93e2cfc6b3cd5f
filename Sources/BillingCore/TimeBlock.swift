/// A time-of-day window `[start, end)` in seconds after local midnight.
///
/// `start == end` means all day; `start > end` wraps midnight (22:00–06:00).
public struct TimeBlock: Sendable, Hashable, Codable {
    public static let secondsPerDay = 86_400
    public static let allDay = TimeBlock(uncheckedStart: 0, end: 0)

    public let start: Int
    public let end: Int

    /// Creates a block; both ends must be within `0..<86_400`.
    public init(start: Int, end: Int) throws(TollgateError) {
        guard (0..<Self.secondsPerDay).contains(start), (0..<Self.secondsPerDay).contains(end) else {
            throw TollgateError(.invalidArgument, "time of day must be between 00:00:00 and 23:59:59", field: "time")
        }
        self.init(uncheckedStart: start, end: end)
    }

    init(uncheckedStart start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Whether a time of day (seconds after local midnight) falls in the block.
    public func contains(secondOfDay second: Int) -> Bool {
        if start == end { return true }
        if start < end { return second >= start && second < end }
        return second >= start || second < end
    }

    /// Parses `HH:MM` or `HH:MM:SS` into seconds after midnight.
    public static func secondOfDay(parsing text: String) throws(TollgateError) -> Int {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        // Digits only: `Int` would also take a sign ("+1:00", "-0:30").
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
            let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0..<24).contains(hour), (0..<60).contains(minute), parts[0].count == 2, parts[1].count == 2
        else { throw TollgateError(.invalidArgument, "time must be HH:MM or HH:MM:SS", field: "time") }
        var second = 0
        if parts.count == 3 {
            guard parts[2].count == 2, let s = Int(parts[2]), (0..<60).contains(s) else {
                throw TollgateError(.invalidArgument, "time must be HH:MM or HH:MM:SS", field: "time")
            }
            second = s
        }
        return hour * 3600 + minute * 60 + second
    }

    /// Formats seconds after midnight as `HH:MM` (or `HH:MM:SS` when seconds are set).
    public static func format(secondOfDay s: Int) -> String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let base = "\(two(s / 3600)):\(two(s / 60 % 60))"
        return s % 60 == 0 ? base : base + ":\(two(s % 60))"
    }
}
