public enum _PlaceholderLedger {}
