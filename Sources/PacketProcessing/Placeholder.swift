public enum PP {}
