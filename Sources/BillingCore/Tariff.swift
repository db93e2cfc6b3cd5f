/// The price terms of a rate, and the cost formula of design.md §5.
///
/// Durations are integer milliseconds; `initialTime` and `unit` are whole seconds as operators enter them.
/// Charges fall due at answer (`initialCost`, plus one `rate` when `initialTime == 0`) and then one `rate`
/// at the start of each unit, at `initialTime + k·unit`. A call ending exactly at an instant does not pay
/// the unit starting there, so the charges of a call lasting `d` add up to exactly `cost(d)`.
public struct Tariff: Sendable, Hashable, Codable {
    public var initialCost: Money
    /// Seconds covered by `initialCost`.
    public var initialTime: Int
    /// Money per billing unit.
    public var rate: Money
    /// Billing unit in seconds, at least 1.
    public var unit: Int

    public init(initialCost: Money = .zero, initialTime: Int = 0, rate: Money, unit: Int) throws(TollgateError) {
        guard !initialCost.isNegative else {
            throw TollgateError(.invalidArgument, "initial cost must not be negative", field: "initialCost")
        }
        guard !rate.isNegative else { throw TollgateError(.invalidArgument, "rate must not be negative", field: "rate") }
        guard (0...Rate.Limits.maxSeconds).contains(initialTime) else {
            throw TollgateError(.invalidArgument, "initial time must be 0 to 86400 s", field: "initialTime")
        }
        guard (1...Rate.Limits.maxSeconds).contains(unit) else {
            throw TollgateError(.invalidArgument, "billing unit must be 1 to 86400 s", field: "unit")
        }
        guard (try? initialCost.adding(rate)) != nil else {
            throw TollgateError(.invalidArgument, "initial cost plus rate is out of range", field: "rate")
        }
        self.initialCost = initialCost
        self.initialTime = initialTime
        self.rate = rate
        self.unit = unit
    }

    var initialMillis: Int64 { Int64(initialTime) * 1000 }
    var unitMillis: Int64 { Int64(unit) * 1000 }

    /// What a call with this billable duration costs: `0` unanswered, else
    /// `initialCost + rate × ceil(max(0, d − initialTime) / unit)`.
    public func cost(billableMillis d: Int64) throws(MoneyError) -> Money {
        guard d > 0 else { return .zero }
        let beyond = Swift.max(0, d - initialMillis)
        let units = Self.ceilDiv(beyond, unitMillis)
        return try initialCost.adding(rate.multiplied(by: units))
    }

    /// The amount of charge `index` (0 is the answer charge).
    public func chargeAmount(index: Int64) -> Money {
        guard index == 0 else { return rate }
        // The sum was checked in init.
        return initialTime == 0 ? Money(micros: initialCost.micros &+ rate.micros) : initialCost
    }

    /// When charge `index` falls due, in ms after answer; saturates at `Int64.max` ("never").
    public func chargeOffset(index: Int64) -> Int64 {
        guard index > 0 else { return 0 }
        let unitsAfterInitial = initialTime == 0 ? index : index - 1
        let (span, o1) = unitsAfterInitial.multipliedReportingOverflow(by: unitMillis)
        let (offset, o2) = span.addingReportingOverflow(initialMillis)
        return o1 || o2 ? .max : offset
    }

    /// How many charges a call lasting `d` ms owes: those falling due strictly before `d`.
    public func chargesOwed(billableMillis d: Int64) -> Int64 {
        guard d > 0 else { return 0 }
        if initialTime == 0 { return Self.ceilDiv(d, unitMillis) }
        let beyond = d - initialMillis
        return 1 + (beyond > 0 ? Self.ceilDiv(beyond, unitMillis) : 0)
    }

    static func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 { a / b + (a % b == 0 ? 0 : 1) }

    /// Whether charges after the answer charge cost anything; a free-running call needs no ticks.
    public var hasRecurringCharges: Bool { rate.isPositive }

    /// The longest duration `available` money buys for a new call: the offset of the first unpaid charge.
    /// `nil` when not even the answer charge is affordable; `Int64.max` when the call can run forever.
    public func affordableMillis(available: Money) -> Int64? {
        let first = chargeAmount(index: 0)
        guard available >= first else { return nil }
        guard rate.isPositive else { return .max }
        let units = (available.micros - first.micros) / rate.micros
        return chargeOffset(index: units + 1)
    }
}
