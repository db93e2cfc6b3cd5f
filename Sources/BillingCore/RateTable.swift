/// The active rates, indexed for selection by design.md §4's rule.
///
/// A digit trie over prefixes: selection walks the dialled number once (at most 32 steps), so it costs the
/// same with ten rates or a million. At each depth the rates ending there are kept sorted by
/// (number length, id), so the exact-length and any-length candidates are found by binary search and
/// visited lowest id first.
public struct RateTable: Sendable {
    /// Rates by id, including inactive ones (kept so a table can be rebuilt and listed).
    public let rates: [Int64: Rate]
    private let ordered: [Rate]
    /// Per node: ten child node indices (-1 = none).
    private let children: [Int32]
    /// Per node: range of `order` holding the rates whose prefix ends at that node.
    private let nodeStart: [Int32]
    private let nodeCount: [Int32]
    /// Indices into `ordered`, grouped by node and sorted by (numberLength, id) within a node.
    private let order: [Int32]

    /// An empty table.
    public init() { self.init(rates: []) }

    /// Indexes `rates`; inactive ones never win.
    public init(rates: [Rate]) {
        var byID: [Int64: Rate] = [:]
        for rate in rates { byID[rate.id] = rate }
        self.rates = byID
        let active = byID.values.filter(\.active).sorted { $0.id < $1.id }
        self.ordered = active

        var children: [Int32] = Array(repeating: -1, count: 10)
        var nodeOf: [Int32] = []
        nodeOf.reserveCapacity(active.count)
        for rate in active {
            var node: Int32 = 0
            for byte in rate.prefix.utf8 {
                let slot = Int(node) * 10 + Int(byte - 48)
                if children[slot] < 0 {
                    children[slot] = Int32(children.count / 10)
                    children.append(contentsOf: repeatElement(-1, count: 10))
                }
                node = children[slot]
            }
            nodeOf.append(node)
        }
        let nodes = children.count / 10
        let order = active.indices.sorted { a, b in
            (nodeOf[a], active[a].numberLength, active[a].id) < (nodeOf[b], active[b].numberLength, active[b].id)
        }.map { Int32($0) }
        var start = Array(repeating: Int32(0), count: nodes)
        var count = Array(repeating: Int32(0), count: nodes)
        for (position, index) in order.enumerated() {
            let node = Int(nodeOf[Int(index)])
            if count[node] == 0 { start[node] = Int32(position) }
            count[node] += 1
        }
        self.children = children
        self.nodeStart = start
        self.nodeCount = count
        self.order = order
    }

    /// The rate that bills `extension` dialling `number` at a local time of day, or `nil` when none applies.
    ///
    /// Winner: the longest matching prefix; then a rate for exactly this number length over one for any
    /// length; then the lowest id.
    public func select(extension ext: String, number: String, secondOfDay: Int) -> Rate? {
        let length = number.utf8.count
        var path: [Int32] = [0]
        var node: Int32 = 0
        for byte in number.utf8 {
            guard byte >= 48, byte <= 57 else { break }
            let next = children[Int(node) * 10 + Int(byte - 48)]
            guard next >= 0 else { break }
            node = next
            path.append(node)
        }
        for node in path.reversed() {
            let count = Int(nodeCount[Int(node)])
            guard count > 0 else { continue }
            let start = Int(nodeStart[Int(node)])
            for wanted in length == 0 ? [0] : [length, 0] {
                var position = firstPosition(start: start, count: count, length: wanted)
                while position < start + count {
                    let rate = ordered[Int(order[position])]
                    guard rate.numberLength == wanted else { break }
                    if rate.applies(extension: ext, length: length, secondOfDay: secondOfDay) { return rate }
                    position += 1
                }
            }
        }
        return nil
    }

    /// The first position in a node's range whose rate has `numberLength >= length`.
    private func firstPosition(start: Int, count: Int, length: Int) -> Int {
        var low = start
        var high = start + count
        while low < high {
            let mid = (low + high) / 2
            if ordered[Int(order[mid])].numberLength < length { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// A copy with one rate added or replaced.
    public func upserting(_ rate: Rate) -> RateTable {
        var all = rates
        all[rate.id] = rate
        return RateTable(rates: Array(all.values))
    }

    /// A copy without the rate `id`.
    public func removing(id: Int64) -> RateTable {
        var all = rates
        all[id] = nil
        return RateTable(rates: Array(all.values))
    }
}
