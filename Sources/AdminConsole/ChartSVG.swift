import Foundation

/// A bar chart drawn on the server as inline SVG: no script and no image request, so it shows without
/// JavaScript and under the console's Content-Security-Policy.
enum ChartSVG {
    struct Bar {
        var label: String
        var value: Int64
        /// The value as the table shows it, for the bar's tooltip.
        var shown: String
    }

    /// The chart's markup; every text in it is escaped.
    static func bars(_ bars: [Bar], axis: (Int64) -> String = compact, title: String, width: Int = 960, height: Int = 260)
        -> String
    {
        let left = 72, right = 12, top = 16, bottom = 36
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let peak = max(1, bars.map(\.value).max() ?? 1)
        let scale = niceCeiling(peak)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-labelledby=\"chart-title\">"
        svg += "<title id=\"chart-title\">\(escape(title))</title>"
        for step in 0...4 {
            let y = top + plotHeight - plotHeight * step / 4
            svg += "<line class=\"grid-line\" x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(escape(axis(scale * Int64(step) / 4)))</text>"
        }
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width - right)\" y2=\"\(top + plotHeight)\"/>"
        let slot = bars.isEmpty ? plotWidth : plotWidth / bars.count
        let labelEvery = max(1, (bars.count + 11) / 12)
        for (index, bar) in bars.enumerated() {
            // Geometry only: the figures themselves are in the table, exact.
            let barHeight = Int(Double(bar.value) / Double(scale) * Double(plotHeight))
            let x = left + index * slot + max(1, slot / 8)
            let barWidth = max(1, slot - 2 * max(1, slot / 8))
            svg += "<rect class=\"bar\" x=\"\(x)\" y=\"\(top + plotHeight - barHeight)\" width=\"\(barWidth)\" height=\"\(barHeight)\">"
            svg += "<title>\(escape(bar.label)): \(escape(bar.shown))</title></rect>"
            if index % labelEvery == 0 {
                svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(escape(bar.label))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at or above the value: round axis labels.
    static func niceCeiling(_ value: Int64) -> Int64 {
        var power: Int64 = 1
        while power * 10 <= value { power *= 10 }
        for factor: Int64 in [1, 2, 5, 10] where factor * power >= value { return factor * power }
        return 10 * power
    }

    static func compact(_ value: Int64) -> String {
        value >= 1_000_000 ? "\(value / 1_000_000)M" : value >= 10_000 ? "\(value / 1_000)k" : "\(value)"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
