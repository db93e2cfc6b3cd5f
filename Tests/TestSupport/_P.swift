public enum _PTS {}
