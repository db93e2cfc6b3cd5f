import BillingCore
import PBXWire

/// Starting inputs for the wire fuzzer: one per flow of the protocol, each a byte stream that follows the
/// harness's handshake. The low byte of a correlation id is the time the harness lets pass after it (× 250 ms);
/// bit 8 of the first one starts the engine as just restarted.
public enum WireFuzzSeeds {
    /// A named seed and how many requests it makes.
    public struct Seed: Sendable {
        public var name: String
        public var bytes: [UInt8]
        public var requests: Int
    }

    public static let all: [Seed] = [
        seed("call-cut-at-credit", [
            // 101 has 0.05 and 0.10 of credit: 7 s at 0.02 a second; a minute passes after the answer.
            PBXClientCodec.authorize(correlationID: 0x200, callID: "c1", extensionNumber: "101", dialled: "0123456"),
            PBXClientCodec.answered(correlationID: 0x3F0, callID: "c1"),
            PBXClientCodec.heartbeat(correlationID: 0x4FF),
            PBXClientCodec.ended(correlationID: 0x500, callID: "c1", billableMillis: 200_000, cause: "cutoff"),
        ]),
        seed("per-minute-with-connection-fee", [
            PBXClientCodec.authorize(correlationID: 0x200, callID: "i1", extensionNumber: "100", dialled: "0044207946"),
            PBXClientCodec.answered(correlationID: 0x3F4, callID: "i1"),
            PBXClientCodec.ended(correlationID: 0x400, callID: "i1", billableMillis: 61_000, cause: "normal"),
        ]),
        seed("denials", [
            PBXClientCodec.authorize(correlationID: 0x200, callID: "d1", extensionNumber: "103", dialled: "0123"),
            PBXClientCodec.authorize(correlationID: 0x300, callID: "d2", extensionNumber: "104", dialled: "0123"),
            PBXClientCodec.authorize(correlationID: 0x400, callID: "d3", extensionNumber: "100", dialled: "9999"),
            PBXClientCodec.authorize(correlationID: 0x500, callID: "d4", extensionNumber: "555", dialled: "0123"),
            PBXClientCodec.authorize(correlationID: 0x600, callID: "d5", extensionNumber: "100", dialled: "112"),
        ]),
        seed("several-calls-one-balance", [
            PBXClientCodec.authorize(correlationID: 0x200, callID: "s1", extensionNumber: "101", dialled: "0123"),
            PBXClientCodec.authorize(correlationID: 0x300, callID: "s2", extensionNumber: "101", dialled: "0456"),
            PBXClientCodec.answered(correlationID: 0x404, callID: "s1"),
            PBXClientCodec.answered(correlationID: 0x508, callID: "s2"),
            PBXClientCodec.ended(correlationID: 0x600, callID: "s2", billableMillis: 2_000, cause: "normal"),
            PBXClientCodec.heartbeat(correlationID: 0x7FF),
            PBXClientCodec.ended(correlationID: 0x800, callID: "s1", billableMillis: 90_000, cause: "cutoff"),
        ]),
        seed("repeats-and-unknown-calls", [
            PBXClientCodec.authorize(correlationID: 0x200, callID: "r1", extensionNumber: "102", dialled: "0123"),
            PBXClientCodec.authorize(correlationID: 0x300, callID: "r1", extensionNumber: "102", dialled: "0123"),
            PBXClientCodec.answered(correlationID: 0x404, callID: "r1"),
            PBXClientCodec.answered(correlationID: 0x500, callID: "r1"),
            PBXClientCodec.ended(correlationID: 0x600, callID: "r1", billableMillis: 1_000, cause: "normal"),
            PBXClientCodec.ended(correlationID: 0x700, callID: "r1", billableMillis: 1_000, cause: "normal"),
            PBXClientCodec.ended(correlationID: 0x800, callID: "nobody", billableMillis: 1_000, cause: "normal"),
            PBXClientCodec.answered(correlationID: 0x900, callID: "nobody"),
        ]),
        seed("resync-and-sync", [
            PBXClientCodec.extensionSync(correlationID: 0x200, extensions: [("100", "front desk"), ("200", "room 200")]),
            PBXClientCodec.authorize(correlationID: 0x300, callID: "y1", extensionNumber: "102", dialled: "0123"),
            PBXClientCodec.resync(correlationID: 0x410, calls: [
                ClaimedCall(callID: "y1", extensionNumber: "102", dialled: "0123", answered: true, answeredMillisAgo: 2_000),
                ClaimedCall(callID: "lost", extensionNumber: "100", dialled: "0123", answered: true, answeredMillisAgo: 5_000),
            ]),
            PBXClientCodec.ack(correlationID: 0x500),
            PBXClientCodec.ended(correlationID: 0x600, callID: "y1", billableMillis: 6_000, cause: "normal"),
        ]),
        seed("resync-after-restart", [
            // The restart lost these calls: an answered one is authorized again as of its answer, a locked
            // extension's is refused, and a repeated claim is one call.
            PBXClientCodec.resync(correlationID: 0x128, calls: [
                ClaimedCall(callID: "l1", extensionNumber: "101", dialled: "0123", answered: true, answeredMillisAgo: 4_000),
                ClaimedCall(callID: "l2", extensionNumber: "103", dialled: "0123", answered: true, answeredMillisAgo: 1_000),
                ClaimedCall(callID: "l3", extensionNumber: "100", dialled: "0044207946", answered: false, answeredMillisAgo: 0),
                ClaimedCall(callID: "l1", extensionNumber: "101", dialled: "0123", answered: true, answeredMillisAgo: 4_000),
            ]),
            PBXClientCodec.answered(correlationID: 0x214, callID: "l3"),
            PBXClientCodec.ended(correlationID: 0x300, callID: "l1", billableMillis: 20_000, cause: "normal"),
            PBXClientCodec.ended(correlationID: 0x400, callID: "l3", billableMillis: 5_000, cause: "normal"),
        ]),
        seed("ends-of-calls-a-restart-lost-whole", [
            // Ended while the server was down, sent again naming the call: settled from the names in the
            // restart's grace period; a locked extension's is refused; a repeat changes nothing.
            PBXClientCodec.ended(correlationID: 0x100, callID: "g1", billableMillis: 3_000, cause: "normal",
                                 lost: ("101", "0123")),
            PBXClientCodec.ended(correlationID: 0x200, callID: "g2", billableMillis: 0, cause: "no answer",
                                 lost: ("100", "0123")),
            PBXClientCodec.ended(correlationID: 0x300, callID: "g3", billableMillis: 2_000, cause: "normal",
                                 lost: ("103", "0123")),
            PBXClientCodec.ended(correlationID: 0x400, callID: "g1", billableMillis: 3_000, cause: "normal",
                                 lost: ("101", "0123")),
        ]),
    ]

    static func seed(_ name: String, _ payloads: [[UInt8]]) -> Seed {
        Seed(name: name, bytes: payloads.flatMap(WireFuzzHarness.frame), requests: payloads.count)
    }
}
