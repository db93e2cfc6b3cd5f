public enum _PlaceholderMetering {}
