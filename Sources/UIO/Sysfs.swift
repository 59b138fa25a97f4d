#if canImport(Glibc)
import Glibc
#endif

/// Where swift-uio looks for the kernel's files. Tests point `root` at a fake tree in a temp dir.
///
/// Plain libc, not Foundation: loading Foundation (and its ICU data) costs about a second per
/// start under emulation, and a driver restarted after a crash must answer again quickly.
public struct Sysfs: Sendable {
    /// Prefix for `/sys`, `/dev` and `/proc` paths; "" on a real system.
    public var root: String

    public init(root: String = "") { self.root = root }

    public static let live = Sysfs()

    public func path(_ absolute: String) -> String { root + absolute }

    public func exists(_ absolute: String) -> Bool {
        access(path(absolute), F_OK) == 0
    }

    /// The file's contents without surrounding whitespace (sysfs ends each value with a newline).
    public func read(_ absolute: String) throws -> String {
        let full = path(absolute)
        let fd = open(full, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: full) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw UIOError.fromErrno("read", path: full)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
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

    /// The names in a directory, sorted, without "." and ".."; empty if it cannot be read.
    public func list(_ absolute: String) -> [String] {
        guard let dir = opendir(path(absolute)) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The last path component of a symlink's target (a bound driver's name, for example).
    public func linkTarget(_ absolute: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let n = buffer.withUnsafeMutableBytes { readlink(path(absolute), $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        guard n > 0 else { return nil }
        let target = String(decoding: buffer[0..<n], as: UTF8.self)
        return target.split(separator: "/").last.map(String.init)
    }

    public func write(_ absolute: String, _ text: String) throws {
        let full = path(absolute)
        let fd = open(full, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: full) }
        defer { close(fd) }
        let written = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        guard written >= 0 else { throw UIOError.fromErrno("write", path: full) }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
