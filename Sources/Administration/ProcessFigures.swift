import Foundation

/// The process's own figures as Prometheus's `process_*` metrics name them, read from /proc/self at a scrape.
/// Zero where /proc is not there (not Linux).
struct ProcessFigures: Sendable, Equatable {
    var cpuSeconds: Double = 0
    var residentBytes: Int64 = 0
    var virtualBytes: Int64 = 0
    var openFDs: Int64 = 0
    var maxFDs: Int64 = 0
    var startTimeSeconds: Double = 0
    var threads: Int64 = 0

    static func read() -> ProcessFigures {
        var figures = ProcessFigures()
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is field 3; utime 14, stime 15, num_threads 20, starttime 22, vsize 23,
            // rss 24 (1-based over the whole line).
            let fields = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
            func field(_ number: Int) -> Double { Double(fields[number - 3]) ?? 0 }
            if fields.count >= 22 {
                figures.cpuSeconds = (field(14) + field(15)) / ticksPerSecond
                figures.threads = Int64(field(20))
                figures.virtualBytes = Int64(field(23))
                figures.residentBytes = Int64(field(24)) * pageSize
                figures.startTimeSeconds = bootTime() + field(22) / ticksPerSecond
            }
        }
        figures.openFDs = Int64((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0)
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { figures.maxFDs = Int64(limit.rlim_cur) }
        return figures
    }

    /// Seconds since the epoch at boot (`btime` in /proc/stat): process start times count from it.
    private static func bootTime() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return 0 }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}
