@testable import Metering
import Testing

@Suite("Timer wheel")
struct TimerWheelTests {
    func take(_ wheel: inout TimerWheel<Int>, upTo now: Int64) -> [Int] {
        var due: [TimerWheel<Int>.Entry] = []
        wheel.takeDue(upTo: now, into: &due)
        return due.map(\.target)
    }

    @Test("entries come out at their millisecond, in instant order, and not before")
    func order() {
        var wheel = TimerWheel<Int>(slotBits: 4, start: 1_000)
        wheel.insert(3, at: 1_003)
        wheel.insert(1, at: 1_001)
        wheel.insert(2, at: 1_002)
        #expect(take(&wheel, upTo: 1_000) == [])
        #expect(take(&wheel, upTo: 1_002) == [1, 2])
        #expect(take(&wheel, upTo: 1_003) == [3])
        #expect(wheel.isEmpty)
    }

    @Test("an entry still waiting is removed by target and instant; one already taken as due is not")
    func remove() {
        final class Box: Sendable { let id: Int; init(_ id: Int) { self.id = id } }
        let (a, b, c) = (Box(1), Box(2), Box(3))
        var wheel = TimerWheel<Box>(slotBits: 4, start: 0)
        wheel.insert(a, at: 10)
        wheel.insert(b, at: 10)
        wheel.insert(c, at: 10 + 16)   // the same slot, a turn later
        let removed = [wheel.remove(a, at: 11), wheel.remove(a, at: 26), wheel.remove(a, at: 10),
                       wheel.remove(a, at: 10)]
        #expect(removed == [false, false, true, false])
        #expect(wheel.count == 2)
        var due: [TimerWheel<Box>.Entry] = []
        wheel.takeDue(upTo: 10, into: &due)
        #expect(due.map(\.target.id) == [2])
        let afterDue = [wheel.remove(b, at: 10), wheel.remove(c, at: 26)]
        #expect(afterDue == [false, true])
        #expect(wheel.isEmpty)
    }

    @Test("an entry more than one turn ahead waits for its own turn")
    func farFuture() {
        var wheel = TimerWheel<Int>(slotBits: 4, start: 0)
        wheel.insert(7, at: 5 + 16 * 3)
        for now in stride(from: Int64(0), to: 53, by: 1) { #expect(take(&wheel, upTo: now) == []) }
        #expect(take(&wheel, upTo: 53) == [7])
    }

    @Test("a long gap sweeps every slot once and keeps what is still ahead")
    func longGap() {
        var wheel = TimerWheel<Int>(slotBits: 4, start: 0)
        for i in 0..<40 { wheel.insert(i, at: Int64(i * 10)) }
        let due = take(&wheel, upTo: 200)
        #expect(due == Array(0...20))
        #expect(wheel.count == 19)
        #expect(take(&wheel, upTo: 1_000) == Array(21..<40))
    }

    @Test("an instant already passed is taken with the next batch and keeps its own instant")
    func past() {
        var wheel = TimerWheel<Int>(slotBits: 4, start: 0)
        _ = take(&wheel, upTo: 100)
        wheel.insert(9, at: 50)
        var due: [TimerWheel<Int>.Entry] = []
        wheel.takeDue(upTo: 101, into: &due)
        #expect(due.map(\.target) == [9])
        #expect(due.first?.at == 50)
    }

    @Test("the first occupied slot bounds the next due entry from below, also across turns")
    func firstOccupied() {
        var wheel = TimerWheel<Int>(slotBits: 4, start: 100)
        #expect(wheel.firstOccupied() == nil)
        wheel.insert(1, at: 107)
        #expect(wheel.firstOccupied() == 107)
        wheel.insert(2, at: 103 + 16)   // a later turn, in slot 103's place: woken there, nothing due yet
        #expect(wheel.firstOccupied() == 103)
        #expect(take(&wheel, upTo: 104) == [])
        #expect(wheel.firstOccupied() == 107)
        #expect(take(&wheel, upTo: 107) == [1])
        #expect(wheel.firstOccupied() == 119)
        wheel.insert(3, at: 50)   // already past: taken with the next batch
        #expect(wheel.firstOccupied() == 108)
        #expect(take(&wheel, upTo: 108) == [3])
    }
}
