import Foundation

/// Where swift-uio looks for the kernel's files. Tests point `root` at a fake tree in a temp dir.
public struct Sysfs: Sendable {
    /// Prefix for `/sys`, `/dev` and `/proc` paths; "" on a real system.
    public var root: String

    public init(root: String = "") { self.root = root }

    public static let live = Sysfs()

    public func path(_ absolute: String) -> String { root + absolute }

    public func exists(_ absolute: String) -> Bool {
        FileManager.default.fileExists(atPath: path(absolute))
    }

    /// The file's contents without the trailing newline.
    public func read(_ absolute: String) throws -> String {
        let full = path(absolute)
        guard let data = FileManager.default.contents(atPath: full) else {
            if FileManager.default.fileExists(atPath: full) { throw UIOError.permissionDenied(path: full) }
            throw UIOError.systemCall("open", path: full, errno: ENOENT)
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A number written as `0x1af4`, `1af4` (hex, as sysfs writes IDs) or, with `decimal`, `4096`.
    public func readNumber(_ absolute: String, decimal: Bool = false) throws -> UInt64 {
        let text = try read(absolute)
        let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard let value = UInt64(digits, radix: decimal && !text.hasPrefix("0x") ? 10 : 16) else {
            throw UIOError.malformedSysfs(path: path(absolute), content: text)
        }
        return value
    }

    public func list(_ absolute: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path(absolute))) ?? []).sorted()
    }

    /// The last path component of a symlink's target (a bound driver's name, for example).
    public func linkTarget(_ absolute: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path(absolute)) else { return nil }
        return target.split(separator: "/").last.map(String.init)
    }

    public func write(_ absolute: String, _ text: String) throws {
        let full = path(absolute)
        let fd = open(full, O_WRONLY)
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: full) }
        defer { close(fd) }
        let written = text.withCString { Foundation.write(fd, $0, strlen($0)) }
        guard written >= 0 else { throw UIOError.fromErrno("write", path: full) }
    }
}
