#if canImport(Glibc)
import Glibc
#endif

/// Output for the examples: lines reach a pipe or file at once (test harnesses wait for them).
public enum Console {
    public static func line(_ message: String) {
        print(message)
        fflush(nil)
    }

    public static func error(_ message: String) {
        let text = message + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
