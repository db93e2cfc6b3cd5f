import Administration
import BillingCore
import Foundation
import Hummingbird

extension AdminConsole {
    struct StatisticsContent {
        var extensionNumber: String
        var periods: [Choice]
        var at: String
        var atType: String
        var totalTime: String
        var averageTime: String
        var calls: Int64
        var totalCost: String
        var chart: String
        var chartOf: [Choice]
        var rows: [StatisticsRow]
        var unit: String
        var timeZone: String
        var form: FormState
    }

    struct StatisticsRow {
        var label: String
        var calls: Int64
        var time: String
        var cost: String
    }

    func addStatisticsRoutes(_ billing: RouterGroup<AdminRequestContext>) {
        billing.get("/statistics") { request, context in
            let query = request.uri.queryParameters
            let period = ["day", "month", "year"].contains(query.get("period") ?? "") ? query.get("period")! : "day"
            let ext = (query.get("extension") ?? "").trimmingCharacters(in: .whitespaces)
            let measure = ["cost", "calls", "time"].contains(query.get("chart") ?? "") ? query.get("chart")! : "cost"
            let now = operations.engine.nowMillis()
            let pattern = period == "day" ? "yyyy-MM-dd" : period == "month" ? "yyyy-MM" : "yyyy"
            var at = query.get("at") ?? ""
            if at.isEmpty { at = String(ConsoleFormat.inputTime(now, zone).prefix(pattern.count)) }
            // A date typed for another period still names one: its first characters.
            if at.count > pattern.count { at = String(at.prefix(pattern.count)) }
            var state = FormState()
            var stats: Statistics?
            do {
                stats = try await operations.statistics(period: period, at: at, extension: ext.isEmpty ? nil : ext)
            } catch {
                state.record(error)
            }
            let symbol = try await operations.currency().symbol
            let series = stats?.series ?? []
            let bars = series.map { bucket -> ChartSVG.Bar in
                switch measure {
                case "calls": ChartSVG.Bar(label: bucket.label, value: bucket.calls, shown: "\(bucket.calls) calls")
                case "time": ChartSVG.Bar(label: bucket.label, value: bucket.billableSeconds,
                                          shown: ConsoleFormat.duration(seconds: bucket.billableSeconds))
                default: ChartSVG.Bar(label: bucket.label, value: bucket.cost.money.micros,
                                      shown: ConsoleFormat.money(bucket.cost.money, symbol))
                }
            }
            let measureName = measure == "calls" ? "Number of calls" : measure == "time" ? "Call time" : "Cost"
            let axis: (Int64) -> String = switch measure {
            case "calls": ChartSVG.compact
            case "time": { ConsoleFormat.duration(seconds: $0) }
            default: { ConsoleFormat.money(Money(micros: $0), symbol) }
            }
            let content = StatisticsContent(
                extensionNumber: ext,
                periods: [Choice(value: "day", label: "Day", selected: period == "day"),
                          Choice(value: "month", label: "Month", selected: period == "month"),
                          Choice(value: "year", label: "Year", selected: period == "year")],
                at: at, atType: period == "day" ? "date" : period == "month" ? "month" : "text",
                totalTime: ConsoleFormat.duration(seconds: stats?.totalBillableSeconds ?? 0),
                averageTime: ConsoleFormat.duration(seconds: stats?.averageSeconds ?? 0), calls: stats?.calls ?? 0,
                totalCost: ConsoleFormat.money(stats?.totalCost.money ?? .zero, symbol),
                chart: ChartSVG.bars(bars, axis: axis, title: "\(measureName) per \(period == "day" ? "hour" : period == "month" ? "day" : "month"), \(at)"),
                chartOf: [Choice(value: "cost", label: "Cost", selected: measure == "cost"),
                          Choice(value: "calls", label: "Number of calls", selected: measure == "calls"),
                          Choice(value: "time", label: "Call time", selected: measure == "time")],
                rows: series.map { StatisticsRow(label: $0.label, calls: $0.calls,
                                                 time: ConsoleFormat.duration(seconds: $0.billableSeconds),
                                                 cost: ConsoleFormat.money($0.cost.money, symbol)) },
                unit: period == "day" ? "Hour" : period == "month" ? "Day" : "Month",
                timeZone: stats?.timeZone ?? zone.identifier, form: state)
            return try await render("statistics", title: "Statistics", request, context, section: "/statistics",
                                    content: content, status: state.message == nil ? .ok : .badRequest)
        }
    }
}
