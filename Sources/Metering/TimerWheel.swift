/// A hashed timer wheel with one-millisecond slots.
///
/// Inserting is O(1); taking what is due visits one slot per elapsed millisecond. Entries further ahead
/// than one turn of the wheel wait in their slot and are passed over until their turn comes.
struct TimerWheel<Target> {
    struct Entry {
        let at: Int64
        let target: Target
    }

    private var slots: [[Entry]]
    private let mask: Int64
    /// The next millisecond not yet taken.
    private(set) var cursor: Int64
    private(set) var count = 0

    /// A wheel of `2^slotBits` milliseconds starting at `start`.
    init(slotBits: Int = 12, start: Int64) {
        slots = Array(repeating: [], count: 1 << slotBits)
        mask = Int64(1 << slotBits) - 1
        cursor = start
    }

    /// Adds `target` to be taken at `at`; an instant already passed is taken with the next batch (the entry
    /// keeps its own instant, so lateness stays measurable).
    mutating func insert(_ target: Target, at: Int64) {
        slots[Int(max(at, cursor) & mask)].append(Entry(at: at, target: target))
        count += 1
    }

    /// Appends every entry due at or before `now` to `due`, in slot order, and moves the cursor past `now`.
    mutating func takeDue(upTo now: Int64, into due: inout [Entry]) {
        guard now >= cursor else { return }
        if count == 0 {
            cursor = now + 1
            return
        }
        if now - cursor >= Int64(slots.count) {
            // A long gap (an idle stretch, a test clock jump): one sweep of every slot finds everything.
            for index in slots.indices { take(slot: index, upTo: now, into: &due) }
            due.sort { $0.at < $1.at }
        } else {
            var instant = cursor
            while instant <= now {
                take(slot: Int(instant & mask), upTo: now, into: &due)
                instant += 1
            }
        }
        cursor = now + 1
    }

    private mutating func take(slot index: Int, upTo now: Int64, into due: inout [Entry]) {
        guard !slots[index].isEmpty else { return }
        let before = due.count
        if slots[index].allSatisfy({ $0.at <= now }) {
            due.append(contentsOf: slots[index])
            slots[index].removeAll(keepingCapacity: true)
        } else {
            var kept: [Entry] = []
            for entry in slots[index] {
                if entry.at <= now { due.append(entry) } else { kept.append(entry) }
            }
            slots[index] = kept
        }
        count -= due.count - before
    }

    var isEmpty: Bool { count == 0 }

    /// The first instant from the cursor on, within one turn, whose slot holds anything: no entry is due
    /// before it (an entry of a later turn can share the slot, so nothing may be due at it either). Nil only
    /// when the wheel is empty: one turn visits every slot.
    func firstOccupied() -> Int64? {
        guard count > 0 else { return nil }
        for step in 0..<Int64(slots.count) where !slots[Int((cursor + step) & mask)].isEmpty {
            return cursor + step
        }
        return nil
    }
}

extension TimerWheel where Target: AnyObject {
    /// Takes out `target`'s entry at `at` if it still waits; false when there is none or it was taken as due.
    mutating func remove(_ target: Target, at: Int64) -> Bool {
        // Not due yet, so it went into the slot of its own instant: the cursor only moves forward.
        guard at >= cursor else { return false }
        let index = Int(at & mask)
        guard let position = slots[index].firstIndex(where: { $0.at == at && $0.target === target }) else {
            return false
        }
        // The order within a slot does not matter: `takeDue` hands out whole slots.
        slots[index].swapAt(position, slots[index].count - 1)
        slots[index].removeLast()
        count -= 1
        return true
    }
}

extension TimerWheel: Sendable where Target: Sendable {}
extension TimerWheel.Entry: Sendable where Target: Sendable {}
