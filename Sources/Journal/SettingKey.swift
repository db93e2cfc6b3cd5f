/// Keys of the settings the engine stores.
public enum SettingKey {
    public static let policy = "policy"
    public static let timeZone = "time_zone"
    public static let currency = "currency"
}
