/// A rate: what calls from its extensions to numbers starting with its prefix cost.
public struct Rate: Sendable, Hashable, Codable, Identifiable {
    /// Limits on rate fields; values beyond them are refused as absurd.
    public enum Limits {
        public static let maxPrefixDigits = 32
        public static let maxNumberLength = 64
        public static let maxSeconds = 86_400
    }

    public var id: Int64
    public var active: Bool
    public var remarks: String
    /// Digits the dialled number must start with (may be empty: matches every number).
    public var prefix: String
    /// Length of the whole dialled number, prefix included; 0 matches any length.
    public var numberLength: Int
    public var tariff: Tariff
    public var block: TimeBlock
    /// Extension numbers the rate applies to.
    public var extensions: Set<String>

    public init(
        id: Int64,
        active: Bool = true,
        remarks: String = "",
        prefix: String,
        numberLength: Int = 0,
        tariff: Tariff,
        block: TimeBlock = .allDay,
        extensions: Set<String>
    ) throws(TollgateError) {
        guard prefix.utf8.count <= Limits.maxPrefixDigits, prefix.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw TollgateError(.invalidArgument, "prefix must be at most 32 digits", field: "prefix")
        }
        guard (0...Limits.maxNumberLength).contains(numberLength) else {
            throw TollgateError(.invalidArgument, "number length must be 0 to 64", field: "numberLength")
        }
        guard numberLength == 0 || numberLength >= prefix.utf8.count else {
            throw TollgateError(
                .invalidArgument, "number length must be 0 or at least the prefix length", field: "numberLength")
        }
        self.id = id
        self.active = active
        self.remarks = remarks
        self.prefix = prefix
        self.numberLength = numberLength
        self.tariff = tariff
        self.block = block
        self.extensions = extensions
    }

    /// Whether this rate may bill `number` dialled by `extension` at `secondOfDay`, prefix aside.
    public func applies(extension number: String, length: Int, secondOfDay: Int) -> Bool {
        active && (numberLength == 0 || numberLength == length) && block.contains(secondOfDay: secondOfDay)
            && extensions.contains(number)
    }
}
