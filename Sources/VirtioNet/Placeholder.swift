public enum VirtioPlaceholder {}
